//! Documented error responses, shared by every part of the OpenAPI document.

use serde_json::{Value, json};

/// A documented error response.
pub fn err(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

/// A documented error response with `Retry-After`.
pub fn retry_err(description: &str) -> Value {
    let mut e = err(description);
    e["headers"] = json!({"Retry-After": {"schema": {"type": "integer"},
        "description": "Seconds to wait before retrying."}});
    e
}
