//! xarray's plain-text repr of a dataset (`<xarray.Dataset> Size: …`, `Dimensions: (…)`,
//! `Coordinates:` with `*` before index coordinates, `Data variables:`, `Attributes:`), made
//! from the summary: the fallback the HTML carries for pages without its styles.

use super::attrs::{cut_chars, shown};
use super::html::preview;
use super::summary::{Summary, Variable, human_bytes};
use std::fmt::Write;

/// Characters of an attribute shown on its line of the text repr.
const ATTR_LINE_CHARS: usize = 60;

/// The text repr (not escaped).
pub fn render(summary: &Summary) -> String {
    // xarray's first column: the longest variable name and six more.
    let width = summary
        .variables()
        .map(|v| v.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(7)
        + 6;
    let mut out = format!(
        "<xarray.Dataset> Size: {}\n",
        human_bytes(summary.size_bytes)
    );
    let dims = summary
        .dims
        .iter()
        .map(|d| format!("{}: {}", d.name, d.size))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(out, "{:<width$}({dims})", "Dimensions:");
    if !summary.coords.is_empty() {
        out.push_str("Coordinates:\n");
        for variable in &summary.coords {
            line(&mut out, variable, width);
        }
    }
    let unindexed: Vec<&str> = summary
        .dims
        .iter()
        .filter(|d| !d.has_index)
        .map(|d| d.name.as_str())
        .collect();
    if !unindexed.is_empty() {
        let _ = writeln!(
            out,
            "Dimensions without coordinates: {}",
            unindexed.join(", ")
        );
    }
    out.push_str("Data variables:\n");
    if summary.data_vars.is_empty() {
        out.push_str("    *empty*\n");
    }
    for variable in &summary.data_vars {
        line(&mut out, variable, width);
    }
    if summary.variables_not_shown > 0 {
        let _ = writeln!(out, "    ... and {} more", summary.variables_not_shown);
    }
    if !summary.attrs.is_empty() {
        out.push_str("Attributes:\n");
        for (key, value) in &summary.attrs {
            let label = format!("    {key}:");
            let _ = writeln!(
                out,
                "{label:<width$}  {}",
                cut_chars(&shown(value).replace('\n', " "), ATTR_LINE_CHARS),
            );
        }
    }
    out.trim_end().to_owned()
}

fn line(out: &mut String, variable: &Variable, width: usize) {
    let marker = if variable.is_index { '*' } else { ' ' };
    let first = format!("  {marker} {} ", variable.name);
    let _ = writeln!(
        out,
        "{first:<width$}({}) {} {} {}",
        variable.dims.join(", "),
        variable.dtype,
        human_bytes(variable.size_bytes),
        preview(variable),
    );
}
