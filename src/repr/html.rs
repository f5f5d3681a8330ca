//! The summary as HTML in the layout and class names of xarray's `_repr_html_` (a header,
//! then collapsible sections: Dimensions, Coordinates, Data variables, Attributes), with its
//! own small stylesheet, and xarray's plain-text repr as the fallback a page without styles
//! shows. Every value that came from the store is escaped: attributes are written by
//! contributors, and a `<script>` in one is shown, never run.

use super::attrs::shown;
use super::summary::{Summary, Variable, human_bytes};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// The stylesheet every preview embeds.
pub const STYLE: &str = include_str!("style.css");

/// Sections with fewer items than these start expanded (xarray's defaults).
const EXPAND_COORDS_BELOW: usize = 25;
const EXPAND_VARS_BELOW: usize = 15;
const EXPAND_ATTRS_BELOW: usize = 10;

/// Numbers the previews of this process, so the ids of their toggles never clash on a page
/// that shows several.
static RENDERED: AtomicU64 = AtomicU64::new(0);

/// `text` with `&`, `<`, `>`, `"` and `'` escaped, for element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            other => out.push(other),
        }
    }
    out
}

/// The preview's HTML.
pub fn render(summary: &Summary) -> String {
    let mut ids = Ids::new();
    let sections = [
        dims_section(summary, &mut ids),
        variables_section(
            "Coordinates",
            &summary.coords,
            0,
            EXPAND_COORDS_BELOW,
            &mut ids,
        ),
        variables_section(
            "Data variables",
            &summary.data_vars,
            summary.variables_not_shown,
            EXPAND_VARS_BELOW,
            &mut ids,
        ),
        indexes_section(summary, &mut ids),
        attrs_section(summary, &mut ids),
    ];
    let mut html = String::new();
    html.push_str("<div class='pfo-repr'><style>");
    html.push_str(STYLE);
    html.push_str("</style>");
    let _ = write!(
        html,
        "<pre class='xr-text-repr-fallback'>{}</pre>",
        escape(&super::text::render(summary))
    );
    html.push_str("<div class='xr-wrap' style='display:none'><div class='xr-header'>");
    html.push_str("<div class='xr-obj-type'>xarray.Dataset</div>");
    let _ = write!(
        html,
        "<div class='xr-obj-size'>Size: {}</div>",
        human_bytes(summary.size_bytes)
    );
    html.push_str("</div><ul class='xr-sections'>");
    for section in sections {
        let _ = write!(html, "<li class='xr-section-item'>{section}</li>");
    }
    html.push_str("</ul></div></div>");
    html
}

/// Unique element ids for one rendering.
struct Ids {
    prefix: u64,
    next: u64,
}

impl Ids {
    fn new() -> Ids {
        Ids {
            prefix: RENDERED.fetch_add(1, Ordering::Relaxed),
            next: 0,
        }
    }

    fn next(&mut self, kind: &str) -> String {
        self.next += 1;
        format!("pfo-repr-{}-{kind}-{}", self.prefix, self.next)
    }
}

/// A collapsible section as xarray writes one: a checkbox, its label (the name and the
/// count), inline details and the details it shows when checked.
fn section(
    ids: &mut Ids,
    name: &str,
    count: Option<usize>,
    expanded: bool,
    inline: &str,
    details: &str,
) -> String {
    let id = ids.next("section");
    let has_items = count.is_some_and(|n| n > 0);
    let enabled = if has_items { "" } else { "disabled" };
    let checked = if has_items && expanded { "checked" } else { "" };
    let count = count
        .map(|n| format!(" <span>({n})</span>"))
        .unwrap_or_default();
    format!(
        "<input id='{id}' class='xr-section-summary-in' type='checkbox' {enabled} {checked}>\
         <label for='{id}' class='xr-section-summary' title='Expand/collapse section'>{name}:{count}</label>\
         <div class='xr-section-inline-details'>{inline}</div>\
         <div class='xr-section-details'>{details}</div>"
    )
}

fn dims_section(summary: &Summary, ids: &mut Ids) -> String {
    let mut list = String::from("<ul class='xr-dim-list'>");
    for dim in &summary.dims {
        let class = if dim.has_index {
            " class='xr-has-index'"
        } else {
            ""
        };
        let _ = write!(
            list,
            "<li><span{class}>{}</span>: {}</li>",
            escape(&dim.name),
            dim.size
        );
    }
    list.push_str("</ul>");
    section(ids, "Dimensions", None, false, &list, "")
}

fn variables_section(
    name: &str,
    variables: &[Variable],
    not_shown: usize,
    expand_below: usize,
    ids: &mut Ids,
) -> String {
    let mut list = String::from("<ul class='xr-var-list'>");
    for variable in variables {
        let _ = write!(
            list,
            "<li class='xr-var-item'>{}</li>",
            variable_row(variable, ids)
        );
    }
    if not_shown > 0 {
        let _ = write!(
            list,
            "<li class='xr-var-item'><div class='xr-more'>… and {not_shown} more variables, not shown</div></li>"
        );
    }
    list.push_str("</ul>");
    let count = variables.len() + not_shown;
    section(ids, name, Some(count), count < expand_below, "", &list)
}

/// What stands for a variable's values, which the preview does not read: a lazy array with
/// its chunks (as `chunks={}` opens data), or for index coordinates the count; CF times add
/// their unit and start.
pub fn preview(variable: &Variable) -> String {
    let base = if variable.is_index {
        if variable.time.is_some() {
            "…".to_owned()
        } else {
            let count = variable
                .shape
                .iter()
                .fold(1u64, |n, s| n.saturating_mul(*s));
            format!("[{count} values with dtype={}]", variable.dtype)
        }
    } else {
        match &variable.chunks {
            Some(chunks) => format!("dask.array<chunksize={}, meta=np.ndarray>", tuple(chunks)),
            None => "dask.array<meta=np.ndarray>".to_owned(),
        }
    };
    match &variable.time {
        Some(time) => format!("{base} {}", time.describe()),
        None => base,
    }
}

/// `(1, 180, 360)`, or `(3,)` for one item, as Python writes tuples.
pub fn tuple(items: &[u64]) -> String {
    match items {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            items
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn variable_row(variable: &Variable, ids: &mut Ids) -> String {
    let attrs_id = ids.next("attrs");
    let data_id = ids.next("data");
    let index = if variable.is_index {
        " class='xr-has-index'"
    } else {
        ""
    };
    let disabled = if variable.attrs.is_empty() {
        "disabled"
    } else {
        ""
    };
    let dims = variable
        .dims
        .iter()
        .map(|d| escape(d))
        .collect::<Vec<_>>()
        .join(", ");
    let mut facts = format!(
        "shape       {}\nchunks      {}\ndtype       {}",
        tuple(&variable.shape),
        variable
            .chunks
            .as_deref()
            .map_or_else(|| "not a regular grid".to_owned(), tuple),
        variable.dtype,
    );
    if variable.stored_dtype != variable.dtype {
        let _ = write!(facts, " (stored as {})", variable.stored_dtype);
    }
    if !variable.fill_value.is_null() {
        let _ = write!(facts, "\nfill value  {}", shown(&variable.fill_value));
    }
    if !variable.codecs.is_empty() {
        let _ = write!(facts, "\ncodecs      {}", variable.codecs.join(", "));
    }
    if let Some(time) = &variable.time {
        let _ = write!(facts, "\ntime        {}", time.describe());
    }
    let _ = write!(facts, "\nsize        {}", human_bytes(variable.size_bytes));
    format!(
        "<div class='xr-var-name'><span{index}>{name}</span></div>\
         <div class='xr-var-dims'>({dims})</div>\
         <div class='xr-var-dtype'>{dtype}</div>\
         <div class='xr-var-preview xr-preview'>{preview}</div>\
         <input id='{attrs_id}' class='xr-var-attrs-in' type='checkbox' {disabled}>\
         <label for='{attrs_id}' title='Show/Hide attributes'>☰</label>\
         <input id='{data_id}' class='xr-var-data-in' type='checkbox'>\
         <label for='{data_id}' title='Show/Hide data repr'>⛁</label>\
         <div class='xr-var-attrs'>{attrs}</div>\
         <div class='xr-var-data'><pre>{facts}</pre></div>",
        name = escape(&variable.name),
        dtype = escape(&variable.dtype),
        preview = escape(&preview(variable)),
        attrs = attr_list(&variable.attrs),
        facts = escape(&facts),
    )
}

fn attr_list(attrs: &serde_json::Map<String, serde_json::Value>) -> String {
    let mut list = String::from("<dl class='xr-attrs'>");
    for (key, value) in attrs {
        let _ = write!(
            list,
            "<dt><span>{} :</span></dt><dd>{}</dd>",
            escape(key),
            escape(&shown(value))
        );
    }
    list.push_str("</dl>");
    list
}

/// The index coordinates, each a pandas index once xarray opens the store (collapsed, as
/// xarray starts it).
fn indexes_section(summary: &Summary, ids: &mut Ids) -> String {
    let mut list = String::from("<ul class='xr-var-list'>");
    let indexes: Vec<&Variable> = summary.coords.iter().filter(|v| v.is_index).collect();
    for index in &indexes {
        let _ = write!(
            list,
            "<li class='xr-var-item'><div class='xr-index-name'><div>{}</div></div>\
             <div class='xr-index-preview'>PandasIndex</div></li>",
            escape(&index.name)
        );
    }
    list.push_str("</ul>");
    section(ids, "Indexes", Some(indexes.len()), false, "", &list)
}

fn attrs_section(summary: &Summary, ids: &mut Ids) -> String {
    let count = summary.attrs.len();
    section(
        ids,
        "Attributes",
        Some(count),
        count < EXPAND_ATTRS_BELOW,
        "",
        &attr_list(&summary.attrs),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#x27;x&#x27;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(tuple(&[3]), "(3,)");
        assert_eq!(tuple(&[1, 180, 360]), "(1, 180, 360)");
    }
}
