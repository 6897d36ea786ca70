//! Logging set-up shared by both programs: env_logger to stderr at the configured level.
//! `RUST_LOG`, when set, wins (standard env_logger syntax, e.g. `security_scanner=debug`).

/// Initialises the global logger once; later calls are ignored (tests may call it repeatedly).
pub fn init(level: &str) {
    let mut builder = env_logger::Builder::new();
    builder.parse_filters(level);
    if let Ok(spec) = std::env::var("RUST_LOG") {
        builder.parse_filters(&spec);
    }
    // The HTTP client prints webhook URLs (which may be secrets) at debug and trace: never.
    for module in ["ureq", "ureq_proto"] {
        builder.filter_module(module, log::LevelFilter::Info);
    }
    builder.format_timestamp_millis();
    let _ = builder.try_init();
}
