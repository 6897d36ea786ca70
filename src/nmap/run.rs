//! One nmap subprocess (to be written).
