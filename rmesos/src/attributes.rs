//! `Attributes`: the operator's labels on a slave (`--attributes
//! rack:r1;zone:us-east;level:5`), copied into every offer of that slave so
//! frameworks can place tasks by rack, zone, machine class...
//!
//! Each attribute is `name:value`; a value is a number (scalar, 0.001
//! precision), `[a-b,...]` (ranges) or text of `[A-Za-z0-9_/.-]` (Mesos's text
//! alphabet). Sets (`{a,b}`) are not supported. Names are unique. Order is kept
//! as given. JSON form (in `/state` and offers): `{"rack":"r1","level":5.0}`.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::resources::{Ranges, RangesError, Scalar};

/// Most attributes on one slave: 128.
pub const MAX_ATTRIBUTES: usize = 128;

/// Longest text value or name: 1024 bytes.
pub const MAX_ATTRIBUTE_LEN: usize = 1024;

/// One attribute's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttributeValue {
    Scalar(Scalar),
    Ranges(Ranges),
    Text(String),
}

/// One `name:value` attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub value: AttributeValue,
}

/// A slave's attributes, in the order given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes(Vec<Attribute>);

/// Why an `--attributes` string is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributesError {
    #[error("attribute '{item}' is not name:value (e.g. rack:r1;zone:us-east;level:5)")]
    UnknownFormat { item: String },
    #[error("attribute name '{name}' must be 1..={MAX_ATTRIBUTE_LEN} letters, digits, '_', '.' or '-'")]
    BadName { name: String },
    #[error("attribute '{name}': value is empty")]
    EmptyValue { name: String },
    #[error("attribute '{name}': '{value}' is not a number, [begin-end,...] or text of [A-Za-z0-9_/.-]")]
    BadValue { name: String, value: String },
    #[error("attribute '{name}': '{value}' is not a valid number (negative, NaN or too large)")]
    BadScalar { name: String, value: String },
    #[error("attribute '{name}': '{value}' is not a valid range list")]
    BadRanges { name: String, value: String },
    #[error("attribute '{name}': set values {{a,b}} are not supported")]
    UnsupportedSet { name: String },
    #[error("attribute '{name}' is given more than once")]
    Duplicate { name: String },
    #[error("more than {MAX_ATTRIBUTES} attributes")]
    TooMany,
}

impl Attributes {
    pub fn new() -> Attributes {
        Attributes::default()
    }

    /// Parses `rack:r1;zone:us-east;level:5` (whitespace around items and a
    /// trailing `;` are tolerated).
    pub fn parse(s: &str) -> Result<Attributes, AttributesError> {
        let mut out = Attributes::new();
        for item in s.split(';').map(str::trim).filter(|i| !i.is_empty()) {
            let (name, value) =
                item.split_once(':').ok_or_else(|| AttributesError::UnknownFormat { item: item.to_string() })?;
            out.insert(name.trim(), parse_value(name.trim(), value.trim())?)?;
        }
        Ok(out)
    }

    /// Adds an attribute; names must be valid and unique.
    pub fn insert(&mut self, name: &str, value: AttributeValue) -> Result<(), AttributesError> {
        validate_name(name)?;
        if self.get(name).is_some() {
            return Err(AttributesError::Duplicate { name: name.to_string() });
        }
        if self.0.len() == MAX_ATTRIBUTES {
            return Err(AttributesError::TooMany);
        }
        self.0.push(Attribute { name: name.to_string(), value });
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&AttributeValue> {
        self.0.iter().find(|a| a.name == name).map(|a| &a.value)
    }

    /// The text value of `name`, if it is text.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(AttributeValue::Text(t)) => Some(t),
            _ => None,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Attribute> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn validate_name(name: &str) -> Result<(), AttributesError> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if name.is_empty() || name.len() > MAX_ATTRIBUTE_LEN || !name.chars().all(ok) {
        return Err(AttributesError::BadName { name: name.to_string() });
    }
    Ok(())
}

fn parse_value(name: &str, value: &str) -> Result<AttributeValue, AttributesError> {
    let (n, v) = (|| name.to_string(), || value.to_string());
    if value.is_empty() {
        return Err(AttributesError::EmptyValue { name: n() });
    }
    if value.starts_with('[') {
        return Ranges::parse(value)
            .map(AttributeValue::Ranges)
            .map_err(|_: RangesError| AttributesError::BadRanges { name: n(), value: v() });
    }
    if value.starts_with('{') {
        return Err(AttributesError::UnsupportedSet { name: n() });
    }
    if let Ok(x) = value.parse::<f64>() {
        // "NaN"/"inf" parse as floats but are words here; treat them as text.
        if x.is_finite() {
            return Scalar::from_f64(x)
                .map(AttributeValue::Scalar)
                .map_err(|_| AttributesError::BadScalar { name: n(), value: v() });
        }
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.' | '-');
    if value.len() > MAX_ATTRIBUTE_LEN || !value.chars().all(ok) {
        return Err(AttributesError::BadValue { name: n(), value: v() });
    }
    Ok(AttributeValue::Text(value.to_string()))
}

impl fmt::Display for AttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttributeValue::Scalar(s) => write!(f, "{s}"),
            AttributeValue::Ranges(r) => write!(f, "{r}"),
            AttributeValue::Text(t) => f.write_str(t),
        }
    }
}

impl fmt::Display for Attributes {
    /// `rack:r1;zone:us-east;level:5`, readable by [`Attributes::parse`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{}:{}", a.name, a.value)?;
        }
        Ok(())
    }
}

impl FromStr for Attributes {
    type Err = AttributesError;
    fn from_str(s: &str) -> Result<Attributes, AttributesError> {
        Attributes::parse(s)
    }
}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for a in &self.0 {
            match &a.value {
                AttributeValue::Scalar(x) => m.serialize_entry(&a.name, &x.as_f64())?,
                other => m.serialize_entry(&a.name, &other.to_string())?,
            }
        }
        m.end()
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Number(f64),
    Text(String),
}

struct AttributesVisitor;

impl<'de> Visitor<'de> for AttributesVisitor {
    type Value = Attributes;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of attribute name to number or string")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Attributes, A::Error> {
        let mut out = Attributes::new();
        while let Some((name, raw)) = map.next_entry::<String, Raw>()? {
            let value = match raw {
                Raw::Number(x) => Scalar::from_f64(x)
                    .map(AttributeValue::Scalar)
                    .map_err(|_| AttributesError::BadScalar { name: name.clone(), value: x.to_string() }),
                Raw::Text(t) => parse_value(&name, &t),
            }
            .map_err(de::Error::custom)?;
            out.insert(&name, value).map_err(de::Error::custom)?;
        }
        Ok(out)
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Attributes, D::Error> {
        d.deserialize_map(AttributesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_scalar_and_ranges() {
        let a = Attributes::parse("rack:r1;zone:us-east;level:5;ports:[1-2];path:/a/b.c").unwrap();
        assert_eq!(a.len(), 5);
        assert_eq!(a.text("rack"), Some("r1"));
        assert_eq!(a.text("zone"), Some("us-east"));
        assert_eq!(a.get("level"), Some(&AttributeValue::Scalar(Scalar::from_units(5))));
        assert_eq!(a.get("ports"), Some(&AttributeValue::Ranges(Ranges::interval(1, 2))));
        assert_eq!(a.text("path"), Some("/a/b.c"));
        assert_eq!(a.to_string(), "rack:r1;zone:us-east;level:5;ports:[1-2];path:/a/b.c");
        assert_eq!(Attributes::parse(&a.to_string()).unwrap(), a);
        assert_eq!(Attributes::parse(" rack : r1 ; ").unwrap().text("rack"), Some("r1"));
        assert!(Attributes::parse("").unwrap().is_empty());
        assert_eq!(Attributes::parse("os:NaN").unwrap().text("os"), Some("NaN"));
    }

    #[test]
    fn reports_each_mistake_clearly() {
        use AttributesError::*;
        let err = |s: &str| Attributes::parse(s).unwrap_err();
        assert!(matches!(err("rack"), UnknownFormat { .. }));
        assert!(matches!(err(":r1"), BadName { .. }));
        assert!(matches!(err("ra ck:r1"), BadName { .. }));
        assert!(matches!(err("rack:"), EmptyValue { .. }));
        assert!(matches!(err("rack:r 1"), BadValue { .. }));
        assert!(matches!(err("zone:us:east"), BadValue { .. }));
        assert!(matches!(err("level:-5"), BadScalar { .. }));
        assert!(matches!(err("p:[2-1]"), BadRanges { .. }));
        assert!(matches!(err("s:{a,b}"), UnsupportedSet { .. }));
        assert!(matches!(err("rack:a;rack:b"), Duplicate { .. }));
        let many: String = (0..=MAX_ATTRIBUTES).map(|i| format!("a{i}:x;")).collect();
        assert_eq!(err(&many), TooMany);
        assert_eq!(err("rack:a;rack:b").to_string(), "attribute 'rack' is given more than once");
    }

    #[test]
    fn json_is_a_map_in_order() {
        let a = Attributes::parse("rack:r1;level:5;ports:[1-2]").unwrap();
        let j = serde_json::to_string(&a).unwrap();
        assert_eq!(j, r#"{"rack":"r1","level":5.0,"ports":"[1-2]"}"#);
        assert_eq!(serde_json::from_str::<Attributes>(&j).unwrap(), a);
        assert!(serde_json::from_str::<Attributes>(r#"{"rack":"a b"}"#).is_err());
        let b = rmp_serde::to_vec_named(&a).unwrap();
        assert_eq!(rmp_serde::from_slice::<Attributes>(&b).unwrap(), a);
    }
}
