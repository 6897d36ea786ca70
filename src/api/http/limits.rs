//! The bounds on a request head, shared by the reader and the refusals that name them.

/// Longest request line (method, target, version).
pub const MAX_REQUEST_LINE: usize = 8 * 1024;
/// Longest single header line.
pub const MAX_HEADER_LINE: usize = 8 * 1024;
/// All header lines together.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
/// Header fields per request.
pub const MAX_HEADERS: usize = 100;
