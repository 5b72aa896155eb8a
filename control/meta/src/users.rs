//! The `users` table (schema version 4, see `docs/schema.md`). Being
//! filled in.
