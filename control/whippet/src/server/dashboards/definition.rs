//! What a dashboard body must look like before it is stored, and the
//! widget ids the server assigns.
//!
//! # What it owns
//! - The checks of [`normalise`]: the shape Datadog and its clients rely on
//!   (`title`, `layout_type`, `widgets` and each widget's `definition.type`,
//!   layouts of non-negative integers, template variables with names), with
//!   a 400 message that names the field and where it is.
//! - Widget ids: every widget, including those inside a `group`, gets a
//!   positive integer id unique in the dashboard. Ids the body gives are
//!   kept (a dashboard exported from Datadog imports with its ids); missing
//!   ones are numbered after the largest given.
//!
//! # What it must never do
//! Rewrite what it does not own. Everything else in the body (unknown
//! widget types, unknown keys, requests, styles, formulas) is stored and
//! returned exactly as given, so that clients can round-trip a dashboard;
//! the fields the server computes (`id`, `url`, `author_*`, times) are the
//! only ones dropped, since the server writes them on every answer.

use serde_json::{Map, Value};

/// Read-only fields of Datadog's `Dashboard`: a client that sends back a
/// dashboard it fetched sends them, and they are ignored, as Datadog does.
const SERVER_FIELDS: [&str; 7] = [
    "id",
    "url",
    "author_handle",
    "author_name",
    "created_at",
    "modified_at",
    "experience_type",
];

/// The values of `layout_type` (Datadog's `DashboardLayoutType`).
const LAYOUT_TYPES: [&str; 2] = ["ordered", "free"];

/// The values of `reflow_type` (Datadog's `DashboardReflowType`).
const REFLOW_TYPES: [&str; 2] = ["auto", "fixed"];

/// Most tags a dashboard takes (Datadog's `Dashboard.tags` has
/// `max_items: 5`; its client refuses more before sending).
const MAX_TAGS: usize = 5;

/// Largest widget id: 2^53 - 1, the largest integer a JavaScript number
/// (the UI, and Datadog's own front end) holds exactly. Datadog's ids are
/// 16 digits, below it.
pub const MAX_WIDGET_ID: u64 = (1 << 53) - 1;

/// `body` checked and ready to store: the server fields dropped, every
/// widget with an id. The error is the 400 message.
pub fn normalise(body: &Value) -> Result<Value, String> {
    let Some(given) = body.as_object() else {
        return Err("Invalid dashboard: the body must be a JSON object".into());
    };
    let mut d: Map<String, Value> = given
        .iter()
        .filter(|(k, _)| !SERVER_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    match d.get("title") {
        None | Some(Value::Null) => return Err(required("title")),
        Some(Value::String(t)) if t.trim().is_empty() => {
            return Err("Invalid dashboard: 'title' must not be empty".into());
        }
        Some(Value::String(_)) => {}
        Some(_) => return Err(not_a("title", "string")),
    }
    let layout = match d.get("layout_type") {
        None | Some(Value::Null) => return Err(required("layout_type")),
        Some(v) => one_of("layout_type", v, &LAYOUT_TYPES)?,
    };
    let reflow = match d.get("reflow_type") {
        None => None,
        Some(v) => Some(one_of("reflow_type", v, &REFLOW_TYPES)?),
    };
    if reflow.is_some() && layout != "ordered" {
        return Err("Invalid dashboard: 'reflow_type' is only for the 'ordered' layout".into());
    }
    for key in ["description"] {
        if !matches!(d.get(key), None | Some(Value::Null | Value::String(_))) {
            return Err(not_a(key, "string"));
        }
    }
    for key in ["notify_list", "tags", "restricted_roles"] {
        string_list(&d, key)?;
    }
    if let Some(Value::Array(tags)) = d.get("tags")
        && tags.len() > MAX_TAGS
    {
        return Err(format!(
            "Invalid dashboard: 'tags' takes at most {MAX_TAGS} tags, got {}",
            tags.len()
        ));
    }
    if !matches!(d.get("is_read_only"), None | Some(Value::Bool(_))) {
        return Err(not_a("is_read_only", "boolean"));
    }
    template_variables(&d)?;
    for key in ["template_variable_presets", "tabs"] {
        if !matches!(d.get(key), None | Some(Value::Null | Value::Array(_))) {
            return Err(not_a(key, "list"));
        }
    }
    let widgets = match d.get_mut("widgets") {
        None | Some(Value::Null) => return Err(required("widgets")),
        Some(Value::Array(w)) => w,
        Some(_) => return Err(not_a("widgets", "list")),
    };
    // Layouts are needed where widgets are placed by hand: on a free
    // dashboard, and on an ordered one with `reflow_type: fixed`.
    let need_layout = layout == "free" || reflow == Some("fixed");
    let mut ids = Vec::new();
    check_widgets(widgets, "widgets", need_layout, false, &mut ids)?;
    assign_ids(widgets, ids.iter().copied().max().unwrap_or(0));
    Ok(Value::Object(d))
}

fn required(key: &str) -> String {
    format!("Invalid dashboard: '{key}' is a required property")
}

fn not_a(key: &str, what: &str) -> String {
    format!("Invalid dashboard: '{key}' must be a {what}")
}

/// `v` as one of `allowed`, or the 400 message listing them.
fn one_of<'a>(key: &str, v: &Value, allowed: &[&'a str]) -> Result<&'a str, String> {
    v.as_str()
        .and_then(|s| allowed.iter().find(|a| **a == s).copied())
        .ok_or_else(|| {
            format!(
                "Invalid dashboard: '{key}' must be one of {}, got {v}",
                allowed
                    .iter()
                    .map(|a| format!("'{a}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// `d[key]`, when present and not null, is a list of strings.
fn string_list(d: &Map<String, Value>, key: &str) -> Result<(), String> {
    match d.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => Ok(()),
        Some(_) => Err(not_a(key, "list of strings")),
    }
}

/// Each template variable has a unique non-empty `name`; its other
/// fields, when present, have the client's types.
fn template_variables(d: &Map<String, Value>) -> Result<(), String> {
    let vars = match d.get("template_variables") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(v)) => v,
        Some(_) => return Err(not_a("template_variables", "list")),
    };
    let mut names = Vec::new();
    for (i, v) in vars.iter().enumerate() {
        let at = format!("Invalid template variable template_variables[{i}]");
        let Some(o) = v.as_object() else {
            return Err(format!("{at}: it must be an object"));
        };
        let name = match o.get("name") {
            Some(Value::String(n)) if !n.is_empty() => n,
            Some(Value::String(_)) => return Err(format!("{at}: 'name' must not be empty")),
            None | Some(Value::Null) => return Err(format!("{at}: 'name' is a required property")),
            Some(_) => return Err(format!("{at}: 'name' must be a string")),
        };
        if names.contains(&name) {
            return Err(format!("{at}: the name '{name}' is used twice"));
        }
        names.push(name);
        for key in ["prefix", "default", "type"] {
            if !matches!(o.get(key), None | Some(Value::Null | Value::String(_))) {
                return Err(format!("{at}: '{key}' must be a string"));
            }
        }
        string_list(o, "available_values")
            .map_err(|_| format!("{at}: 'available_values' must be a list of strings"))?;
        if !matches!(o.get("defaults"), None | Some(Value::Array(_)))
            || string_list(o, "defaults").is_err()
        {
            return Err(format!("{at}: 'defaults' must be a list of strings"));
        }
    }
    Ok(())
}

/// Checks every widget of `widgets` (at `path`), recursing into groups,
/// and collects the ids they give.
fn check_widgets(
    widgets: &[Value],
    path: &str,
    need_layout: bool,
    in_group: bool,
    ids: &mut Vec<u64>,
) -> Result<(), String> {
    for (i, w) in widgets.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let bad = |what: &str| format!("Invalid widget {at}: {what}");
        let Some(w) = w.as_object() else {
            return Err(bad("it must be an object"));
        };
        let def = match w.get("definition") {
            Some(Value::Object(d)) => d,
            None | Some(Value::Null) => return Err(bad("'definition' is a required property")),
            Some(_) => return Err(bad("'definition' must be an object")),
        };
        let kind = match def.get("type") {
            Some(Value::String(t)) if !t.is_empty() => t.as_str(),
            None | Some(Value::Null) => {
                return Err(bad("'type' is a required property of its definition"));
            }
            Some(_) => return Err(bad("'type' of its definition must be a non-empty string")),
        };
        match w.get("id") {
            None | Some(Value::Null) => {}
            Some(v) => match v.as_u64().filter(|n| (1..=MAX_WIDGET_ID).contains(n)) {
                Some(id) if ids.contains(&id) => {
                    return Err(bad(&format!("id {id} is used by another widget")));
                }
                Some(id) => ids.push(id),
                None => {
                    return Err(bad(&format!(
                        "'id' must be an integer from 1 to {MAX_WIDGET_ID}, or absent"
                    )));
                }
            },
        }
        match w.get("layout") {
            None | Some(Value::Null) if need_layout && !in_group => {
                return Err(bad("'layout' is a required property on this dashboard \
                     (layout_type 'free', or reflow_type 'fixed')"));
            }
            None | Some(Value::Null) => {}
            Some(Value::Object(l)) => layout(l).map_err(|e| bad(&e))?,
            Some(_) => return Err(bad("'layout' must be an object")),
        }
        if kind == "group" {
            if in_group {
                return Err(bad("a group cannot contain another group"));
            }
            match def.get("widgets") {
                Some(Value::Array(inner)) => check_widgets(
                    inner,
                    &format!("{at}.definition.widgets"),
                    need_layout,
                    true,
                    ids,
                )?,
                None | Some(Value::Null) => {
                    return Err(bad("'widgets' is a required property of a group"));
                }
                Some(_) => return Err(bad("'widgets' of a group must be a list")),
            }
        }
    }
    Ok(())
}

/// A widget layout: `x`, `y`, `width`, `height` non-negative integers
/// (Datadog's client refuses anything else when it reads the dashboard
/// back), `is_column_break` a boolean.
fn layout(l: &Map<String, Value>) -> Result<(), String> {
    for key in ["x", "y", "width", "height"] {
        match l.get(key) {
            Some(v) if v.is_u64() => {}
            None | Some(Value::Null) => {
                return Err(format!("'{key}' is a required property of its layout"));
            }
            Some(_) => {
                return Err(format!(
                    "'{key}' of its layout must be a non-negative integer"
                ));
            }
        }
    }
    if !matches!(l.get("is_column_break"), None | Some(Value::Bool(_))) {
        return Err("'is_column_break' of its layout must be a boolean".into());
    }
    Ok(())
}

/// Gives every widget without an id (in order, groups' widgets after the
/// group) the next id after `last`. Runs after [`check_widgets`], so every
/// widget is an object with an object definition.
fn assign_ids(widgets: &mut [Value], mut last: u64) -> u64 {
    for w in widgets {
        let Some(w) = w.as_object_mut() else { continue };
        if w.get("id").is_none_or(Value::is_null) {
            last += 1;
            w.insert("id".into(), Value::from(last));
        }
        let def = w.get_mut("definition").and_then(Value::as_object_mut);
        if let Some(def) = def.filter(|d| d.get("type").and_then(Value::as_str) == Some("group"))
            && let Some(Value::Array(inner)) = def.get_mut("widgets")
        {
            last = assign_ids(inner, last);
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ok(body: Value) -> Value {
        normalise(&body).unwrap_or_else(|e| panic!("{body}: {e}"))
    }

    fn err(body: Value) -> String {
        normalise(&body).expect_err(&body.to_string())
    }

    fn base() -> Value {
        json!({"title": "T", "layout_type": "ordered", "widgets": []})
    }

    fn with(key: &str, v: Value) -> Value {
        let mut b = base();
        b[key] = v;
        b
    }

    #[test]
    fn the_minimum_passes_and_server_fields_are_dropped() {
        assert_eq!(ok(base()), base());
        let mut b = base();
        for k in SERVER_FIELDS {
            b[k] = json!("x");
        }
        b["is_read_only"] = json!(true);
        b["x_unknown"] = json!({"kept": [1]});
        let d = ok(b);
        for k in SERVER_FIELDS {
            assert!(d.get(k).is_none(), "{k}");
        }
        assert_eq!(
            (d["is_read_only"].clone(), d["x_unknown"].clone()),
            (json!(true), json!({"kept": [1]}))
        );
    }

    #[test]
    fn required_fields_and_enums_are_named() {
        let mut b = base();
        b.as_object_mut().unwrap().remove("title");
        assert_eq!(err(b), "Invalid dashboard: 'title' is a required property");
        assert!(err(with("title", json!("  "))).contains("'title' must not be empty"));
        assert!(err(with("title", json!(5))).contains("'title' must be a string"));
        let mut b = base();
        b.as_object_mut().unwrap().remove("layout_type");
        assert!(err(b).contains("'layout_type' is a required property"));
        assert_eq!(
            err(with("layout_type", json!("grid"))),
            "Invalid dashboard: 'layout_type' must be one of 'ordered', 'free', got \"grid\""
        );
        assert!(err(with("reflow_type", json!("sideways"))).contains("'auto', 'fixed'"));
        let mut b = with("layout_type", json!("free"));
        b["reflow_type"] = json!("auto");
        assert!(err(b).contains("only for the 'ordered' layout"));
        let mut b = base();
        b.as_object_mut().unwrap().remove("widgets");
        assert!(err(b).contains("'widgets' is a required property"));
        assert!(err(with("widgets", json!({"a": 1}))).contains("'widgets' must be a list"));
        assert!(err(json!([base()])).contains("must be a JSON object"));
        assert!(err(with("description", json!(1))).contains("'description' must be a string"));
        assert!(err(with("tags", json!(["a", 1]))).contains("'tags' must be a list of strings"));
        assert!(err(with("tags", json!(["a", "b", "c", "d", "e", "f"]))).contains("at most 5"));
        assert!(err(with("is_read_only", json!("yes"))).contains("boolean"));
        ok(with("description", Value::Null));
        ok(with("notify_list", json!(["a@b.c"])));
    }

    #[test]
    fn template_variables_need_unique_names() {
        ok(with(
            "template_variables",
            json!([{"name": "host", "prefix": "host", "default": "*", "available_values": null},
                   {"name": "env", "prefix": "env", "defaults": ["prod"]}]),
        ));
        assert!(
            err(with("template_variables", json!([{"prefix": "host"}])))
                .contains("template_variables[0]: 'name' is a required property")
        );
        assert!(
            err(with(
                "template_variables",
                json!([{"name": "a"}, {"name": "a"}])
            ))
            .contains("template_variables[1]: the name 'a' is used twice")
        );
        assert!(
            err(with(
                "template_variables",
                json!([{"name": "a", "defaults": "x"}])
            ))
            .contains("'defaults' must be a list of strings")
        );
        assert!(err(with("template_variables", json!("host"))).contains("must be a list"));
    }

    #[test]
    fn widgets_need_a_typed_definition_and_sane_layouts() {
        let w = |widget: Value| with("widgets", json!([widget]));
        assert_eq!(
            err(w(
                json!({"layout": {"x": 0, "y": 0, "width": 1, "height": 1}})
            )),
            "Invalid widget widgets[0]: 'definition' is a required property"
        );
        assert!(
            err(w(json!({"definition": {"title": "x"}})))
                .contains("widgets[0]: 'type' is a required property of its definition")
        );
        assert!(err(w(json!({"definition": {"type": ""}}))).contains("non-empty string"));
        assert!(err(w(json!("note"))).contains("widgets[0]: it must be an object"));
        let bad_layout = json!({"definition": {"type": "note"}, "layout": {"x": -1, "y": 0, "width": 1, "height": 1}});
        assert!(err(w(bad_layout)).contains("'x' of its layout must be a non-negative integer"));
        let float_layout = json!({"definition": {"type": "note"}, "layout": {"x": 1.5, "y": 0, "width": 1, "height": 1}});
        assert!(err(w(float_layout)).contains("'x' of its layout"));
        assert!(
            err(w(
                json!({"definition": {"type": "note"}, "layout": {"x": 0}})
            ))
            .contains("'y' is a required property of its layout")
        );
        // Unknown widget types are stored as given.
        let odd = json!({"definition": {"type": "sankey", "whatever": [1, {"a": null}]}});
        assert_eq!(
            ok(w(odd.clone()))["widgets"][0]["definition"],
            odd["definition"]
        );
    }

    #[test]
    fn free_and_fixed_dashboards_need_layouts_on_top_level_widgets() {
        let no_layout = json!([{"definition": {"type": "note", "content": "x"}}]);
        let mut free = with("widgets", no_layout.clone());
        free["layout_type"] = json!("free");
        assert!(err(free).contains("'layout' is a required property on this dashboard"));
        let mut fixed = with("widgets", no_layout.clone());
        fixed["reflow_type"] = json!("fixed");
        assert!(err(fixed).contains("'layout' is a required property"));
        let mut auto = with("widgets", no_layout);
        auto["reflow_type"] = json!("auto");
        ok(auto);
    }

    #[test]
    fn widget_ids_are_kept_or_assigned_after_the_largest() {
        let d = ok(with(
            "widgets",
            json!([
                {"definition": {"type": "note", "content": "a"}},
                {"id": 2_619_247_057_532_237_u64, "definition": {"type": "group", "layout_type": "ordered", "widgets": [
                    {"definition": {"type": "timeseries", "requests": []}},
                    {"id": 7, "definition": {"type": "note", "content": "b"}}
                ]}},
                {"id": null, "definition": {"type": "toplist", "requests": []}}
            ]),
        ));
        let ids: Vec<u64> = [
            &d["widgets"][0],
            &d["widgets"][1],
            &d["widgets"][1]["definition"]["widgets"][0],
            &d["widgets"][1]["definition"]["widgets"][1],
            &d["widgets"][2],
        ]
        .iter()
        .map(|w| w["id"].as_u64().unwrap())
        .collect();
        let big = 2_619_247_057_532_237_u64;
        assert_eq!(ids, vec![big + 1, big, big + 2, 7, big + 3]);
        // Normalising again changes nothing: ids are stable on update.
        assert_eq!(ok(d.clone()), d);
        // Without given ids, numbering starts at 1.
        let d = ok(with("widgets", json!([{"definition": {"type": "note"}}])));
        assert_eq!(d["widgets"][0]["id"], json!(1));
    }

    #[test]
    fn bad_and_duplicate_widget_ids_are_refused() {
        let two = |a: Value, b: Value| {
            with(
                "widgets",
                json!([{"id": a, "definition": {"type": "note"}},
                       {"id": b, "definition": {"type": "group", "widgets": []}}]),
            )
        };
        assert!(
            err(two(json!(5), json!(5))).contains("widgets[1]: id 5 is used by another widget")
        );
        for bad in [
            json!(0),
            json!(-3),
            json!(1.5),
            json!("12"),
            json!(MAX_WIDGET_ID + 1),
        ] {
            assert!(
                err(two(bad.clone(), json!(1))).contains("'id' must be an integer"),
                "{bad}"
            );
        }
        let nested_dup = with(
            "widgets",
            json!([{"id": 3, "definition": {"type": "group", "widgets": [
                {"id": 3, "definition": {"type": "note"}}]}}]),
        );
        assert!(err(nested_dup).contains("widgets[0].definition.widgets[0]: id 3 is used"));
    }

    #[test]
    fn groups_hold_widgets_but_not_groups() {
        let g = |inner: Value| {
            with(
                "widgets",
                json!([{"definition": {"type": "group", "layout_type": "ordered", "widgets": inner}}]),
            )
        };
        assert!(err(g(json!(null))).contains("'widgets' is a required property of a group"));
        assert!(err(g(json!({}))).contains("'widgets' of a group must be a list"));
        assert!(
            err(g(json!([{"definition": {}}])))
                .contains("widgets[0].definition.widgets[0]: 'type' is a required property")
        );
        assert!(
            err(g(json!([{"definition": {"type": "group", "widgets": []}}])))
                .contains("a group cannot contain another group")
        );
    }
}
