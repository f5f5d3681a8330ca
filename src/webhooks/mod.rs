//! Webhook ingestion: verify, then store, then answer. Nothing is processed here; a
//! stored delivery waits in the durable queue ([`crate::jobs`]) for a worker.
//!
//! Order of checks, each answered before the next runs: the webhook secret is configured;
//! the signature matches the raw body; the `X-GitHub-Event` and `X-GitHub-Delivery` headers
//! are present; the body is JSON. Anything after the signature check is stored, even a
//! malformed payload (as `failed`, with the reason), so nothing verified is lost.

pub mod event;
pub mod signature;

use crate::auth::Secret;
use crate::db::entities::webhook_delivery;
use crate::db::enums::DeliveryState;
use crate::db::{Database, DbError, NewDelivery, Recorded};
use event::Handling;
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
    /// The database could not store it: answer 5xx so GitHub redelivers.
    #[error("the delivery could not be stored; it was not accepted, send it again later")]
    Storage(#[from] DbError),
}

/// The longest delivery GUID accepted (GitHub's are 36-character UUIDs).
const MAX_GUID_LEN: usize = 100;

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
    let guid = non_empty(incoming.guid)
        .filter(|g| g.len() <= MAX_GUID_LEN)
        .ok_or(IngestError::MissingHeader("X-GitHub-Delivery"))?;
    let payload = String::from_utf8_lossy(incoming.body).into_owned();

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
            event::handling(event, new.action.as_deref())
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
