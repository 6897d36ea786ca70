//! Everything that touches the nmap program: running it (`run`) and reading its XML (`xml`).

pub mod run;
pub mod xml;
