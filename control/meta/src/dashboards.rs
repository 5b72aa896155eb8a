//! The `dashboards` table (schema version 4, see `docs/schema.md`). Being
//! filled in.
