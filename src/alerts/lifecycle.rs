//! What an operator may do to an alert, by its status:
//!
//! ```text
//! open --ack--> actioned          open | actioned --ignore--> ignored --unignore--> open
//! ```
//!
//! `resolved` is only ever set by a run that covered the address and no longer sees the
//! condition (see [`super::sync`]); no action starts from it. The store applies a
//! [`StatusChange`] in one statement that checks and changes the status together
//! (`Store::change_alert_status`), so two operators acting at once cannot both succeed from a
//! stale read: the rule is here, its atomic enforcement in SQL.

use crate::model::{AlertAction, AlertStatus};
use crate::store::StatusChange;

/// `open` → `actioned`: someone is on it. The note says what was done.
pub const ACK: StatusChange = StatusChange {
    action: AlertAction::Ack,
    from: &[AlertStatus::Open],
    to: AlertStatus::Actioned,
};

/// `open` or `actioned` → `ignored`: the condition is accepted and never alerts again until
/// [`UNIGNORE`].
pub const IGNORE: StatusChange = StatusChange {
    action: AlertAction::Ignore,
    from: &[AlertStatus::Open, AlertStatus::Actioned],
    to: AlertStatus::Ignored,
};

/// `ignored` → `open`: the condition alerts again (and resolves when gone).
pub const UNIGNORE: StatusChange = StatusChange {
    action: AlertAction::Unignore,
    from: &[AlertStatus::Ignored],
    to: AlertStatus::Open,
};

#[cfg(test)]
mod tests;
