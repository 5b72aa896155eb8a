//! `whippet keys` and `whippet orgs`: manage the metadata store directly
//! (SQLite in the data dir, or `--metadata-url`). Safe while a server runs
//! on the same store; a revoked key stops working in a running server within
//! its key cache's lifetime (see `whippet-meta`).

use anyhow::Context;
use whippet_meta::{KeyId, KeyKind, MetaStore};
use whippet_tsdb::OrgId;

use crate::config::{Config, Layers};

/// Where the metadata store is.
#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// Where Whippet keeps its data [env: WHIPPET_DATA_DIR] [default: ./whippet-data]
    #[arg(long)]
    pub data_dir: Option<String>,
    /// Metadata store URL [env: WHIPPET_METADATA_URL] [default: SQLite in the data dir]
    #[arg(long)]
    pub metadata_url: Option<String>,
}

impl StoreArgs {
    fn apply(&self, l: &mut Layers) {
        l.flag("data_dir", self.data_dir.clone());
        l.flag("metadata_url", self.metadata_url.clone());
    }
}

/// `whippet keys ...`
#[derive(clap::Subcommand, Debug)]
pub enum KeysCommand {
    /// List keys (never their secrets).
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// Only this org's keys.
        #[arg(long)]
        org: Option<u32>,
    },
    /// Create a key and print its secret, once.
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// The org (see `whippet orgs list`).
        #[arg(long, default_value_t = 1)]
        org: u32,
        /// `api` (intake) or `app` (application key: reads and admin).
        #[arg(long, value_parser = ["api", "app"])]
        kind: String,
        /// A name to recognise the key by.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Revoke a key by id; it stops working at once for new requests.
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        /// The key's id (see `whippet keys list`).
        id: i64,
    },
}

/// `whippet orgs ...`
#[derive(clap::Subcommand, Debug)]
pub enum OrgsCommand {
    /// List orgs.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Create an org with an API key and an application key, printed once.
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// The org's name.
        name: String,
    },
}

impl KeysCommand {
    /// Applies the command's flags to the configuration layers.
    pub fn apply(&self, l: &mut Layers) {
        match self {
            KeysCommand::List { store, .. }
            | KeysCommand::Create { store, .. }
            | KeysCommand::Revoke { store, .. } => store.apply(l),
        }
    }
}

impl OrgsCommand {
    /// Applies the command's flags to the configuration layers.
    pub fn apply(&self, l: &mut Layers) {
        match self {
            OrgsCommand::List { store } | OrgsCommand::Create { store, .. } => store.apply(l),
        }
    }
}

async fn open(config: &Config) -> anyhow::Result<MetaStore> {
    if config.metadata_url.is_none() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
    }
    MetaStore::open(&config.metadata_url())
        .await
        .context("opening the metadata store")
}

fn kind_name(k: KeyKind) -> &'static str {
    match k {
        KeyKind::Api => "api",
        KeyKind::App => "app",
    }
}

/// Runs `whippet keys ...`.
pub async fn keys(cmd: KeysCommand, config: &Config) -> anyhow::Result<()> {
    let meta = open(config).await?;
    match cmd {
        KeysCommand::List { org, .. } => {
            let keys = meta.list_keys(org.map(OrgId)).await?;
            println!(
                "{:>6}  {:>4}  {:<4}  {:<8}  {:<10}  NAME",
                "ID", "ORG", "KIND", "ENDS IN", "STATE"
            );
            for k in keys {
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{:>6}  {:>4}  {:<4}  ...{:<5}  {:<10}  {}",
                    k.id.0,
                    k.org.0,
                    kind_name(k.kind),
                    k.last4,
                    state,
                    k.name
                );
            }
        }
        KeysCommand::Create {
            org, kind, name, ..
        } => {
            let kind = if kind == "api" {
                KeyKind::Api
            } else {
                KeyKind::App
            };
            let (info, secret) = meta.create_key(OrgId(org), kind, &name).await?;
            println!(
                "created {} key {} for org {}: {secret}",
                kind_name(kind),
                info.id.0,
                org
            );
            println!("(this is the only time the secret is shown)");
        }
        KeysCommand::Revoke { id, .. } => {
            meta.revoke_key(KeyId(id)).await?;
            println!("revoked key {id}");
        }
    }
    Ok(())
}

/// Runs `whippet orgs ...`.
pub async fn orgs(cmd: OrgsCommand, config: &Config) -> anyhow::Result<()> {
    let meta = open(config).await?;
    match cmd {
        OrgsCommand::List { .. } => {
            println!("{:>4}  NAME", "ID");
            for o in meta.list_orgs().await? {
                println!("{:>4}  {}", o.id.0, o.name);
            }
        }
        OrgsCommand::Create { name, .. } => {
            let org = meta.create_org(&name).await?;
            let (_, api) = meta.create_key(org.id, KeyKind::Api, "default").await?;
            let (_, app) = meta.create_key(org.id, KeyKind::App, "default").await?;
            println!("created org {} \"{}\"", org.id.0, org.name);
            println!("API key:         {api}");
            println!("Application key: {app}");
            println!("(this is the only time the secrets are shown)");
        }
    }
    Ok(())
}
