//! Streaming nmap XML parser (to be written).
