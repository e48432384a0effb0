//! Test support for the workspace (std, dev-only).
