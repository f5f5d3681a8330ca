//! Data types as xarray shows them: Zarr v2's NumPy type strings (`<f4`, `|u1`, `<M8[ns]`)
//! and Zarr v3's names (`float32`, `uint8`) turned into NumPy's names with their item size,
//! and the type CF decoding gives a variable (masked integers become floats, scaled values
//! floats, CF times `datetime64[ns]`).

/// What kind of values a type holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int,
    UInt,
    Float,
    Complex,
    Datetime,
    Timedelta,
    Bytes,
    Str,
    Object,
    Other,
}

/// A data type: NumPy's name for it and its size in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DType {
    /// NumPy's name, e.g. `float32`, `datetime64[ns]`, `<U10`, `object`.
    pub name: String,
    /// Bytes per value (0 when unknown).
    pub itemsize: u64,
    /// The kind of values.
    pub kind: Kind,
}

impl DType {
    fn new(name: impl Into<String>, itemsize: u64, kind: Kind) -> DType {
        DType {
            name: name.into(),
            itemsize,
            kind,
        }
    }

    fn numeric(kind: Kind, bytes: u64) -> DType {
        let base = match kind {
            Kind::Int => "int",
            Kind::UInt => "uint",
            Kind::Float => "float",
            Kind::Complex => "complex",
            _ => "bool",
        };
        if kind == Kind::Bool {
            return DType::new("bool", 1, Kind::Bool);
        }
        DType::new(format!("{base}{}", bytes * 8), bytes, kind)
    }

    /// A Zarr v2 (NumPy) type string such as `<f4`, `|b1`, `<M8[ns]`, `|S10`, `<U3`, `|O`.
    pub fn from_v2(text: &str) -> DType {
        let body = text.trim_start_matches(['<', '>', '|', '=']);
        let mut chars = body.chars();
        let Some(code) = chars.next() else {
            return DType::new(text, 0, Kind::Other);
        };
        let rest: &str = chars.as_str();
        let number = rest.split('[').next().and_then(|n| n.parse::<u64>().ok());
        match (code, number) {
            ('b', _) => DType::numeric(Kind::Bool, 1),
            ('i', Some(n @ (1 | 2 | 4 | 8))) => DType::numeric(Kind::Int, n),
            ('u', Some(n @ (1 | 2 | 4 | 8))) => DType::numeric(Kind::UInt, n),
            ('f', Some(n @ (2 | 4 | 8 | 16))) => DType::numeric(Kind::Float, n),
            ('c', Some(n @ (8 | 16 | 32))) => DType::numeric(Kind::Complex, n),
            ('M', Some(8)) => DType::new(format!("datetime64{}", unit_of(rest)), 8, Kind::Datetime),
            ('m', Some(8)) => {
                DType::new(format!("timedelta64{}", unit_of(rest)), 8, Kind::Timedelta)
            }
            ('S', Some(n)) => DType::new(format!("|S{n}"), n, Kind::Bytes),
            ('U', Some(n)) => DType::new(format!("<U{n}"), n.saturating_mul(4), Kind::Str),
            ('V', Some(n)) => DType::new(format!("|V{n}"), n, Kind::Other),
            ('O', _) => DType::new("object", 8, Kind::Object),
            _ => DType::new(text, 0, Kind::Other),
        }
    }

    /// A Zarr v3 `data_type` name (and its configuration, for extension types).
    pub fn from_v3(name: &str, configuration: Option<&serde_json::Value>) -> DType {
        let sized = |prefix: &str, kind: Kind| {
            name.strip_prefix(prefix)
                .and_then(|bits| bits.parse::<u64>().ok())
                .filter(|bits| bits % 8 == 0 && *bits > 0)
                .map(|bits| DType::numeric(kind, bits / 8))
        };
        if name == "bool" {
            return DType::numeric(Kind::Bool, 1);
        }
        if let Some(t) = sized("uint", Kind::UInt)
            .or_else(|| sized("int", Kind::Int))
            .or_else(|| sized("float", Kind::Float))
            .or_else(|| sized("complex", Kind::Complex))
        {
            return t;
        }
        let unit = configuration
            .and_then(|c| c.get("unit"))
            .and_then(serde_json::Value::as_str)
            .map(|u| format!("[{u}]"))
            .unwrap_or_default();
        match name {
            "string" | "variable_length_utf8" => DType::new("object", 8, Kind::Object),
            "bytes" | "variable_length_bytes" => DType::new("object", 8, Kind::Object),
            "numpy.datetime64" => DType::new(format!("datetime64{unit}"), 8, Kind::Datetime),
            "numpy.timedelta64" => DType::new(format!("timedelta64{unit}"), 8, Kind::Timedelta),
            raw if raw.starts_with('r') => match raw[1..].parse::<u64>() {
                Ok(bits) if bits % 8 == 0 => {
                    DType::new(format!("|V{}", bits / 8), bits / 8, Kind::Other)
                }
                _ => DType::new(raw, 0, Kind::Other),
            },
            other => DType::new(other, 0, Kind::Other),
        }
    }

    /// The type CF decoding gives values stored as `self` with these attributes (xarray's
    /// `mask_and_scale`): scaled values become floats (float32 for floats of at most 4 bytes
    /// and for integers of at most 2 bytes without an offset, else float64); masked integers
    /// become float32 (at most 2 bytes) or float64.
    pub fn decoded(&self, masked: bool, scaled: bool, offset: bool) -> DType {
        let float = |bytes: u64| DType::numeric(Kind::Float, bytes);
        match self.kind {
            Kind::Float if scaled => float(if self.itemsize <= 4 { 4 } else { 8 }),
            Kind::Int | Kind::UInt if scaled => {
                float(if self.itemsize <= 2 && !offset { 4 } else { 8 })
            }
            Kind::Int | Kind::UInt if masked => float(if self.itemsize <= 2 { 4 } else { 8 }),
            _ => self.clone(),
        }
    }

    /// The type of CF-decoded times: `datetime64[ns]` on the standard calendars, Python
    /// objects (`cftime`) on the others.
    pub fn cf_time(calendar: Option<&str>) -> DType {
        match calendar.map(str::to_ascii_lowercase).as_deref() {
            None | Some("standard" | "gregorian" | "proleptic_gregorian") => {
                DType::new("datetime64[ns]", 8, Kind::Datetime)
            }
            Some(_) => DType::new("object", 8, Kind::Object),
        }
    }
}

/// The `[unit]` of a NumPy datetime type string, or "".
fn unit_of(rest: &str) -> String {
    rest.find('[')
        .map(|at| rest[at..].to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_and_v3_types_get_numpy_names_and_sizes() {
        let name = |t: DType| (t.name, t.itemsize);
        assert_eq!(name(DType::from_v2("<f4")), ("float32".into(), 4));
        assert_eq!(name(DType::from_v2(">i2")), ("int16".into(), 2));
        assert_eq!(name(DType::from_v2("|u1")), ("uint8".into(), 1));
        assert_eq!(name(DType::from_v2("|b1")), ("bool".into(), 1));
        assert_eq!(
            name(DType::from_v2("<M8[ns]")),
            ("datetime64[ns]".into(), 8)
        );
        assert_eq!(name(DType::from_v2("|S10")), ("|S10".into(), 10));
        assert_eq!(name(DType::from_v2("<U3")), ("<U3".into(), 12));
        assert_eq!(name(DType::from_v2("|O")), ("object".into(), 8));
        assert_eq!(name(DType::from_v2("??")), ("??".into(), 0));
        assert_eq!(name(DType::from_v3("float64", None)), ("float64".into(), 8));
        assert_eq!(name(DType::from_v3("uint16", None)), ("uint16".into(), 2));
        assert_eq!(name(DType::from_v3("bool", None)), ("bool".into(), 1));
        assert_eq!(name(DType::from_v3("r16", None)), ("|V2".into(), 2));
        assert_eq!(name(DType::from_v3("string", None)), ("object".into(), 8));
    }

    #[test]
    fn cf_decoding_changes_types_as_xarray() {
        let i2 = DType::from_v2("<i2");
        assert_eq!(i2.decoded(false, true, false).name, "float32");
        assert_eq!(i2.decoded(false, true, true).name, "float64");
        assert_eq!(i2.decoded(true, false, false).name, "float32");
        assert_eq!(
            DType::from_v2("<i4").decoded(true, false, false).name,
            "float64"
        );
        assert_eq!(
            DType::from_v2("<f8").decoded(true, true, false).name,
            "float64"
        );
        assert_eq!(
            DType::from_v2("<f4").decoded(true, false, false).name,
            "float32"
        );
        assert_eq!(i2.decoded(false, false, false).name, "int16");
        assert_eq!(DType::cf_time(None).name, "datetime64[ns]");
        assert_eq!(DType::cf_time(Some("noleap")).name, "object");
    }
}
