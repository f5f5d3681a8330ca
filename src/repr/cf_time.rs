//! CF time units (`days since 1996-10-01`, `hours since 1900-01-01 00:00:0.0`): xarray
//! decodes such variables to dates. The values are in chunks, which the preview does not
//! read, so it shows the unit and the reference date, normalised to ISO 8601.

/// A variable's CF time encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfTime {
    /// The step, in CF's plural spelling: `days`, `hours`, `minutes`, `seconds`, …
    pub unit: &'static str,
    /// The reference date, `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS` (as written when it is not
    /// a date this can read).
    pub since: String,
}

impl CfTime {
    /// `days since 1996-10-01`.
    pub fn describe(&self) -> String {
        format!("{} since {}", self.unit, self.since)
    }
}

/// The CF time encoding `units` stands for, if it is one.
pub fn parse_units(units: &str) -> Option<CfTime> {
    let lower = units.trim().to_ascii_lowercase();
    let (unit, _) = lower.split_once(" since ")?;
    let unit = match unit.trim() {
        "days" | "day" | "d" => "days",
        "hours" | "hour" | "hrs" | "hr" | "h" => "hours",
        "minutes" | "minute" | "mins" | "min" => "minutes",
        "seconds" | "second" | "secs" | "sec" | "s" => "seconds",
        "milliseconds" | "millisecond" | "msecs" | "msec" | "ms" => "milliseconds",
        "microseconds" | "microsecond" | "usecs" | "usec" | "us" => "microseconds",
        "nanoseconds" | "nanosecond" | "nsecs" | "nsec" | "ns" => "nanoseconds",
        _ => return None,
    };
    // The reference as written (original case), after " since ".
    let at = units.to_ascii_lowercase().find(" since ")? + " since ".len();
    let written = units[at..].trim();
    let since = normalise_date(written).unwrap_or_else(|| written.to_owned());
    Some(CfTime { unit, since })
}

/// `1996-10-01`, `1996-10-01 00:00:00`, `1900-1-1 0:0:0.0`, `2000-01-01T12:00:00Z` → ISO 8601
/// (the date alone when the time is midnight).
fn normalise_date(text: &str) -> Option<String> {
    let text = text.trim();
    let (date, time) = match text.find(['T', ' ']) {
        Some(at) => (&text[..at], text[at + 1..].trim()),
        None => (text, ""),
    };
    let mut parts = date.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next().unwrap_or("1").parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || !(0..=9999).contains(&year) {
        return None;
    }
    let time = time
        .trim_end_matches(|c: char| c == 'Z' || c.is_ascii_whitespace())
        .trim_end_matches("UTC")
        .trim_end_matches("utc")
        .trim();
    // A zone offset other than zero is kept as written.
    let time = time
        .strip_suffix("+00:00")
        .or_else(|| time.strip_suffix("+0:00"))
        .unwrap_or(time)
        .trim();
    let mut hms = [0u32; 3];
    if !time.is_empty() {
        for (i, part) in time.splitn(3, ':').enumerate() {
            let whole = part.split('.').next()?;
            hms[i] = whole.parse().ok()?;
        }
    }
    if hms[0] > 24 || hms[1] > 59 || hms[2] > 60 {
        return None;
    }
    let day_text = format!("{year:04}-{month:02}-{day:02}");
    Some(if hms == [0, 0, 0] {
        day_text
    } else {
        format!("{day_text}T{:02}:{:02}:{:02}", hms[0], hms[1], hms[2])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cf_units_give_a_unit_and_a_start_date() {
        let t = |u: &str| parse_units(u).map(|t| t.describe());
        assert_eq!(
            t("days since 1996-10-01").as_deref(),
            Some("days since 1996-10-01")
        );
        assert_eq!(
            t("hours since 1900-01-01 00:00:0.0").as_deref(),
            Some("hours since 1900-01-01")
        );
        assert_eq!(
            t("Seconds since 1970-1-1 12:30:00Z").as_deref(),
            Some("seconds since 1970-01-01T12:30:00")
        );
        assert_eq!(
            t("minutes since 2000-01-01T06:00:00").as_deref(),
            Some("minutes since 2000-01-01T06:00:00")
        );
        assert_eq!(
            t("days since the beginning").as_deref(),
            Some("days since the beginning")
        );
        assert_eq!(t("kelvin"), None);
        assert_eq!(t("fortnights since 2000-01-01"), None);
    }
}
