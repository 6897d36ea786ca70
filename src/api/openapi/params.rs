//! Query parameters several parts of the document describe alike (the paging ones above
//! all): one definition each, so every list route documents paging as the server does it.
//! An empty value is "not given" on the server for every parameter (`?limit=`).

use serde_json::{Value, json};

use crate::api::respond::{DEFAULT_LIMIT, MAX_LIMIT};

/// An optional query parameter.
pub fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description,
           "schema": schema})
}

/// [`query`] whose empty value (`?status=`) is taken as leaving it out.
pub fn query_empty(name: &str, description: &str, schema: Value) -> Value {
    let mut p = query(
        name,
        &format!("{description} An empty value is the same as leaving it out."),
        schema,
    );
    p["allowEmptyValue"] = json!(true);
    p
}

/// `limit`: how many `what` (rows, hosts) a page holds; `note` follows the default.
pub fn limit(what: &str, note: &str) -> Value {
    query_empty(
        "limit",
        &format!("{what} per page (default {DEFAULT_LIMIT}){note}."),
        json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
    )
}

/// `before`: the cursor of a list paged newest first (an id).
pub fn before(description: &str) -> Value {
    query_empty(
        "before",
        description,
        json!({"type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX}),
    )
}

/// `after`: the cursor of a list paged in order (a position from 0).
pub fn after(description: &str) -> Value {
    query_empty(
        "after",
        description,
        json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": i64::MAX}),
    )
}

/// `format`: JSON or CSV.
pub fn format() -> Value {
    query_empty(
        "format",
        "json (default) or csv.",
        json!({"type": "string", "enum": ["json", "csv"]}),
    )
}
