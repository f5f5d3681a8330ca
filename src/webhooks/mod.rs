//! Webhook ingestion: verify, then store, then answer. Nothing is processed here; a
//! stored delivery waits in the durable queue ([`crate::queue`]) for a worker.
//!
//! Order of checks, each answered before the next runs: the webhook secret is configured;
//! the signature matches the raw body; the `X-GitHub-Event` and `X-GitHub-Delivery` headers
//! are present; the body is JSON. Anything after the signature check is stored, even a
//! malformed payload (as `failed`, with the reason), so nothing verified is lost.

pub mod payload;
pub mod signature;
pub mod status;

use crate::config::Secret;
use crate::db::entities::webhook_delivery;
use crate::db::enums::DeliveryState;
use crate::db::{Database, DbError, NewDelivery, Recorded};
use payload::Handling;
pub use signature::SignatureError;

/// The parts of a webhook request ingestion looks at.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// `X-GitHub-Event`.
    pub event: Option<&'a str>,
    /// `X-GitHub-Delivery`.
    pub guid: Option<&'a str>,
    /// `X-Hub-Signature-256`.
    pub signature: Option<&'a str>,
    /// The raw body, exactly as received.
    pub body: &'a [u8],
}

/// What ingestion did with a verified delivery.
#[derive(Debug, Clone)]
pub enum Ingested {
    /// A `ping`: stored as done and answered.
    Pong(webhook_delivery::Model),
    /// Stored and queued for a worker.
    Queued(webhook_delivery::Model),
    /// Stored; an event or action we do not act on.
    Ignored(webhook_delivery::Model),
    /// Seen before and not failed for good: acknowledged, not repeated.
    Duplicate(webhook_delivery::Model),
    /// Seen before and failed for good: queued to run again (a manual redelivery).
    Requeued(webhook_delivery::Model),
}

/// Why a delivery was refused.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("webhooks are not accepted: GITHUB_WEBHOOK_SECRET is not configured")]
    NotConfigured,
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    /// Stored as `failed` with this reason; answered as a client error.
    #[error("delivery {guid} was stored but cannot be processed: {reason}")]
    Malformed { guid: String, reason: String },
    /// A status report that cannot apply (stored as `failed` with this reason).
    #[error("status report {guid} was stored but not applied: {reason}")]
    StatusRefused {
        guid: String,
        refusal: StatusRefusal,
        reason: String,
    },
    #[error("`{0}` is an event name this server reserves for its own work")]
    ReservedEvent(String),
    /// The database could not store it: answer 5xx so GitHub redelivers.
    #[error("the delivery could not be stored; it was not accepted, send it again later")]
    Storage(#[from] DbError),
}

/// Why a status report was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusRefusal {
    /// A field is missing or wrong.
    Invalid,
    /// No run has that id.
    UnknownRun,
    /// The run is not in progress (already completed, or never submitted).
    NotRunning,
}

/// Event names of the server's own queued work; refused from outside.
pub const INTERNAL_EVENT_PREFIX: &str = "pfo.";

/// The longest delivery GUID accepted (GitHub's are 36-character UUIDs).
const MAX_GUID_LEN: usize = 100;

/// The body as the text a delivery row keeps: bytes that are not UTF-8, and NUL (which
/// PostgreSQL text cannot hold), become U+FFFD. JSON never carries a raw NUL (it must be
/// escaped), so only a body that is not JSON anyway is changed, and it is still stored,
/// as failed, instead of being refused by the database on every redelivery.
fn stored_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text.into_owned()
    }
}

/// Verifies, classifies and stores one delivery.
pub async fn ingest(
    db: &Database,
    secret: Option<&Secret>,
    incoming: Incoming<'_>,
) -> Result<Ingested, IngestError> {
    let secret = secret.ok_or(IngestError::NotConfigured)?;
    signature::verify(
        secret.expose().as_bytes(),
        incoming.body,
        incoming.signature,
    )?;
    let event = non_empty(incoming.event).ok_or(IngestError::MissingHeader("X-GitHub-Event"))?;
    if event.starts_with(INTERNAL_EVENT_PREFIX) {
        return Err(IngestError::ReservedEvent(event.to_owned()));
    }
    if event == status::STATUS_EVENT {
        return ingest_status(db, non_empty(incoming.guid), incoming.body).await;
    }
    let guid = non_empty(incoming.guid)
        .filter(|g| g.len() <= MAX_GUID_LEN)
        .ok_or(IngestError::MissingHeader("X-GitHub-Delivery"))?;
    let payload = stored_text(incoming.body);

    let mut new = NewDelivery {
        guid: guid.to_owned(),
        event: event.to_owned(),
        action: None,
        repository: None,
        installation_id: None,
        payload,
        state: DeliveryState::Queued,
        last_error: None,
        note: None,
    };
    let handling = match serde_json::from_slice::<Envelope>(incoming.body) {
        Ok(envelope) => {
            new.action = envelope.action;
            new.repository = envelope.repository.map(|r| r.full_name);
            new.installation_id = envelope.installation.map(|i| i.id);
            payload::handling(event, new.action.as_deref())
        }
        Err(e) => {
            let reason = format!("the body is not a JSON object: {e}");
            new.state = DeliveryState::Failed;
            new.last_error = Some(reason.clone());
            return match db.record_delivery(new).await? {
                Recorded::Stored(_) => Err(IngestError::Malformed {
                    guid: guid.to_owned(),
                    reason,
                }),
                Recorded::Duplicate(row) => Ok(Ingested::Duplicate(row)),
                Recorded::Requeued(row) => Ok(Ingested::Requeued(row)),
            };
        }
    };
    match handling {
        Handling::Queue => {}
        Handling::Answer => {
            new.state = DeliveryState::Done;
            new.note = Some("pong".into());
        }
        Handling::Ignore => {
            new.state = DeliveryState::Ignored;
            new.note = Some(match &new.action {
                Some(action) => format!("`{event}` with action `{action}` is not acted on"),
                None => format!("`{event}` events are not acted on"),
            });
        }
    }
    Ok(match db.record_delivery(new).await? {
        Recorded::Stored(row) => match handling {
            Handling::Answer => Ingested::Pong(row),
            Handling::Queue => Ingested::Queued(row),
            Handling::Ignore => Ingested::Ignored(row),
        },
        Recorded::Duplicate(row) => Ingested::Duplicate(row),
        Recorded::Requeued(row) => Ingested::Requeued(row),
    })
}

/// A bakery monitor's report: checked against the run before it is queued. Monitors may send
/// no delivery GUID; one is then derived from the run and conclusion, so the same report
/// sent twice is one delivery.
async fn ingest_status(
    db: &Database,
    guid: Option<&str>,
    body: &[u8],
) -> Result<Ingested, IngestError> {
    let parsed = status::parse_status(body);
    let guid = match (guid, &parsed) {
        (Some(guid), _) => guid.chars().take(MAX_GUID_LEN).collect(),
        (None, Ok(report)) => format!(
            "{}-{}-{:?}",
            status::STATUS_EVENT,
            report.recipe_run_id,
            report.conclusion
        )
        .to_lowercase(),
        (None, Err(_)) => format!(
            "{}-unreadable-{}",
            status::STATUS_EVENT,
            &signature::sign(b"guid", body)["sha256=".len()..][..16]
        ),
    };
    let run = match &parsed {
        Ok(report) => db.recipe_run(report.recipe_run_id).await?,
        Err(_) => None,
    };
    let refusal = match (&parsed, &run) {
        (Err(reason), _) => Some((StatusRefusal::Invalid, reason.clone())),
        (Ok(report), None) => Some((
            StatusRefusal::UnknownRun,
            format!("recipe run {} does not exist", report.recipe_run_id),
        )),
        (Ok(_), Some(run)) if run.status != crate::db::enums::RunStatus::InProgress => Some((
            StatusRefusal::NotRunning,
            format!(
                "recipe run {} is {}, not in progress: nothing was changed",
                run.id,
                serde_json::to_value(run.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ),
        )),
        (Ok(_), Some(_)) => None,
    };
    let repository = match &run {
        Some(run) => db.feedstock(run.feedstock_id).await?.map(|f| f.spec),
        None => None,
    };
    let new = NewDelivery {
        guid: guid.clone(),
        event: status::STATUS_EVENT.to_owned(),
        action: Some("completed".into()),
        repository,
        installation_id: None,
        payload: stored_text(body),
        state: if refusal.is_some() {
            DeliveryState::Failed
        } else {
            DeliveryState::Queued
        },
        last_error: refusal.as_ref().map(|(_, reason)| reason.clone()),
        note: None,
    };
    match (db.record_delivery(new).await?, refusal) {
        (Recorded::Stored(_), Some((refusal, reason))) => Err(IngestError::StatusRefused {
            guid,
            refusal,
            reason,
        }),
        (Recorded::Stored(row), None) => Ok(Ingested::Queued(row)),
        (Recorded::Duplicate(row), _) => Ok(Ingested::Duplicate(row)),
        (Recorded::Requeued(row), _) => Ok(Ingested::Requeued(row)),
    }
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// The fields every GitHub payload may carry, read before the delivery is stored.
#[derive(serde::Deserialize)]
struct Envelope {
    action: Option<String>,
    repository: Option<EnvelopeRepository>,
    installation: Option<EnvelopeInstallation>,
}

#[derive(serde::Deserialize)]
struct EnvelopeRepository {
    full_name: String,
}

#[derive(serde::Deserialize)]
struct EnvelopeInstallation {
    id: i64,
}
