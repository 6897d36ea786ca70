//! `GET /api/profiles`: every scan profile with the exact nmap arguments this server would
//! use, and whether `POST /api/scan` may ask for it here.

use rouille::{Request, Response};
use serde::Serialize;

use crate::api::error::ApiError;
use crate::api::respond::ok_json;
use crate::api::state::State;
use crate::profile::Profile;

#[derive(Serialize)]
struct ProfileInfo {
    name: &'static str,
    description: &'static str,
    api_allowed: bool,
    available: bool,
    needs_raw_socket: bool,
    nmap_args: Vec<String>,
    note: Option<String>,
}

/// `GET /api/profiles`: every profile with the exact nmap arguments this server would use.
pub fn list(state: &State, _request: &Request) -> Result<Response, ApiError> {
    let rules = &state.rules;
    let profiles: Vec<ProfileInfo> = Profile::ALL
        .iter()
        .map(|&p| {
            let refusal = p
                .check_api()
                .and_then(|()| p.check_privilege(rules.raw_access))
                .err();
            let mut nmap_args = p.nmap_args(&rules.tuning, None);
            if p.needs_raw_socket() {
                nmap_args.extend(rules.raw_access.nmap_args().iter().map(|a| a.to_string()));
            }
            ProfileInfo {
                name: p.name(),
                description: p.description(),
                api_allowed: p.api_allowed(),
                available: refusal.is_none(),
                needs_raw_socket: p.needs_raw_socket(),
                nmap_args,
                note: refusal.map(|e| e.to_string()),
            }
        })
        .collect();
    Ok(ok_json(&serde_json::json!({ "profiles": profiles })))
}
