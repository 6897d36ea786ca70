//! `daily_scan import FILE.xml...`: existing nmap output stored as snapshots, one per file
//! (the conversion is [`crate::batch::import`]).

use std::io::Write;
use std::path::PathBuf;

use super::{CommandError, Outcome, emit};
use crate::batch::{self, import};
use crate::config::Config;
use crate::delta::DeltaConfig;

#[derive(Debug, Clone)]
pub struct ImportCommand {
    pub files: Vec<PathBuf>,
    /// Profile the snapshots are stored under (deltas compare within a profile).
    pub profile: String,
}

pub fn import(
    config: &Config,
    command: &ImportCommand,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    let (mut store, _lock) = batch::open_for_writing(config, None)?;
    let delta_config = DeltaConfig::from_config(config);
    for file in &command.files {
        let s = import::import_file(&mut store, file, &command.profile, &delta_config)?;
        let line = format!(
            "{}: snapshot {} (profile {}, {}), {} up, {}\n",
            file.display(),
            s.id.unwrap_or_default(),
            command.profile,
            s.status.as_str(),
            crate::report::text::count(s.hosts_up() as u64, "host"),
            crate::report::text::count(s.open_ports() as u64, "open port")
        );
        emit(out, line.as_bytes())?;
    }
    Ok(Outcome::Done)
}
