//! HTTP basic auth (`Authorization: Basic base64(user:password)`, RFC
//! 7617), which is how Grafana's Prometheus datasource sends credentials:
//! for Whippet the user is an API key and the password an application key.
//!
//! Owns only the parsing; never checks a key (the caller hands them to
//! `auth::app_org`).

use axum::http::{HeaderMap, header};

/// The user and password of a request's basic credentials, when it has
/// well-formed ones (scheme `Basic` in any case, standard base64 with or
/// without padding, UTF-8, a `:` between user and password, a non-empty
/// user).
pub fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64_decode(rest.trim())?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    (!user.is_empty()).then(|| (user.to_owned(), password.to_owned()))
}

/// Standard base64 (`A-Z a-z 0-9 + /`), `=` padding optional; `None` for
/// any other character or a length no encoding gives.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let body = s.trim_end_matches('=');
    if s.len() - body.len() > 2 || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.as_bytes().chunks(4) {
        let mut n = 0u32;
        for &c in chunk {
            n = n << 6 | sextet(c)?;
        }
        n <<= 6 * (4 - chunk.len() as u32);
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn decodes_base64_of_every_length() {
        // RFC 4648's test vectors.
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_decode(enc).unwrap(), plain.as_bytes(), "{enc}");
            assert_eq!(
                base64_decode(enc.trim_end_matches('=')).unwrap(),
                plain.as_bytes()
            );
        }
        assert_eq!(base64_decode("+/8=").unwrap(), [0xfb, 0xff]);
        assert!(base64_decode("Zm9v!").is_none());
        assert!(base64_decode("Z").is_none());
        assert!(base64_decode("Zg===").is_none());
    }

    #[test]
    fn reads_user_and_password() {
        // "apikey:app:key" — the password may hold colons.
        assert_eq!(
            credentials(&with("Basic YXBpa2V5OmFwcDprZXk=")),
            Some(("apikey".into(), "app:key".into()))
        );
        assert_eq!(
            credentials(&with("basic   YXBpa2V5OmFwcDprZXk=")),
            Some(("apikey".into(), "app:key".into()))
        );
        // "apikey:" — an empty password is still a password.
        assert_eq!(
            credentials(&with("Basic YXBpa2V5Og==")),
            Some(("apikey".into(), String::new()))
        );
        // ":x", "nocolon", another scheme, no header.
        assert_eq!(credentials(&with("Basic Ong=")), None);
        assert_eq!(credentials(&with("Basic bm9jb2xvbg==")), None);
        assert_eq!(credentials(&with("Bearer YXBpa2V5OmFwcDprZXk=")), None);
        assert_eq!(credentials(&HeaderMap::new()), None);
    }
}
