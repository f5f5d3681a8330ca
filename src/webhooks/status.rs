//! Job-status reports from a bakery's monitor (`X-GitHub-Event: dataflow`): the original's
//! form body `action=completed&recipe_run_id=…&conclusion=success|failure`, or the same fields
//! as JSON with optional `job_id` and `message`.

use crate::db::enums::RunConclusion;
use serde::{Deserialize, Serialize};

/// The event name bakery monitors send.
pub const STATUS_EVENT: &str = "dataflow";

/// A validated status report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    pub recipe_run_id: i32,
    pub conclusion: RunConclusion,
    /// The bakery's job id, when the monitor says it.
    pub job_id: Option<String>,
    /// What the monitor has to say (appended to the run's logs).
    pub message: Option<String>,
}

#[derive(Deserialize)]
struct RawReport {
    action: Option<String>,
    recipe_run_id: Option<serde_json::Value>,
    conclusion: Option<String>,
    job_id: Option<String>,
    message: Option<String>,
}

/// Reads a report; the error names the field at fault.
pub fn parse_status(body: &[u8]) -> Result<StatusReport, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8 text".to_owned())?;
    let raw: RawReport = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| format!("the JSON body cannot be read: {e}"))?
    } else {
        serde_urlencoded::from_str(text)
            .map_err(|e| format!("the form body cannot be read: {e}"))?
    };
    match raw.action.as_deref() {
        Some("completed") => {}
        Some(other) => {
            return Err(format!("`action` must be `completed`, got `{other}`"));
        }
        None => return Err("`action` is missing (expected `completed`)".into()),
    }
    let recipe_run_id = match raw.recipe_run_id {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
        None => return Err("`recipe_run_id` is missing".into()),
    }
    .and_then(|n| i32::try_from(n).ok())
    .filter(|n| *n > 0)
    .ok_or_else(|| "`recipe_run_id` must be a positive integer".to_owned())?;
    let conclusion = match raw.conclusion.as_deref() {
        Some("success") => RunConclusion::Success,
        Some("failure") => RunConclusion::Failure,
        Some(other) => {
            return Err(format!(
                "`conclusion` must be `success` or `failure`, got `{other}`"
            ));
        }
        None => return Err("`conclusion` is missing".into()),
    };
    Ok(StatusReport {
        recipe_run_id,
        conclusion,
        job_id: raw.job_id.filter(|j| !j.is_empty()),
        message: raw.message.filter(|m| !m.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_form_body_is_read() {
        let report =
            parse_status(b"action=completed&recipe_run_id=42&conclusion=success").expect("ok");
        assert_eq!(report.recipe_run_id, 42);
        assert_eq!(report.conclusion, RunConclusion::Success);
        assert_eq!(report.job_id, None);
    }

    #[test]
    fn json_bodies_may_add_a_job_id_and_message() {
        let report = parse_status(
            br#"{"action":"completed","recipe_run_id":7,"conclusion":"failure","job_id":"2022-x","message":"OOM"}"#,
        )
        .expect("ok");
        assert_eq!(report.conclusion, RunConclusion::Failure);
        assert_eq!(report.job_id.as_deref(), Some("2022-x"));
        assert_eq!(report.message.as_deref(), Some("OOM"));
    }

    #[test]
    fn each_bad_field_is_named() {
        for (body, expected) in [
            (
                "action=started&recipe_run_id=1&conclusion=success",
                "`action` must be",
            ),
            ("recipe_run_id=1&conclusion=success", "`action` is missing"),
            (
                "action=completed&conclusion=success",
                "`recipe_run_id` is missing",
            ),
            (
                "action=completed&recipe_run_id=abc&conclusion=success",
                "positive integer",
            ),
            (
                "action=completed&recipe_run_id=-3&conclusion=success",
                "positive integer",
            ),
            (
                "action=completed&recipe_run_id=1&conclusion=cancelled",
                "`conclusion` must be",
            ),
            (
                "action=completed&recipe_run_id=1",
                "`conclusion` is missing",
            ),
            ("{\"action\": ", "JSON body cannot be read"),
        ] {
            let err = parse_status(body.as_bytes()).expect_err(body);
            assert!(err.contains(expected), "{body}: {err}");
        }
    }
}
