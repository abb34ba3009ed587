//! Serde for [`Resources`]: a map of name to number (scalar) or string
//! (ranges, `"[31000-32000]"`), the shape of Mesos's `/state` resources.
//!
//! Decoding validates like the text parser (no negative, NaN or oversized
//! scalar, no malformed ranges): resources arrive from the network and must
//! not break the allocator's invariants.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::parse::{ranges_value, scalar_value, validate_name};
use super::{Resources, MAX_RESOURCE_NAMES};

impl Serialize for Resources {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.scalars.len() + self.ranges.len()))?;
        for (name, v) in &self.scalars {
            m.serialize_entry(name, &v.as_f64())?;
        }
        for (name, r) in &self.ranges {
            m.serialize_entry(name, &r.to_string())?;
        }
        m.end()
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Value {
    Number(f64),
    Text(String),
}

struct ResourcesVisitor;

impl<'de> Visitor<'de> for ResourcesVisitor {
    type Value = Resources;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of resource name to number or \"[begin-end,...]\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Resources, A::Error> {
        let mut out = Resources::new();
        let mut n = 0usize;
        while let Some((name, value)) = map.next_entry::<String, Value>()? {
            n += 1;
            if n > MAX_RESOURCE_NAMES {
                return Err(de::Error::custom(super::ResourcesError::TooMany));
            }
            validate_name(&name).map_err(de::Error::custom)?;
            match value {
                Value::Number(v) => {
                    let s = scalar_value(&name, v, &v.to_string()).map_err(de::Error::custom)?;
                    out.set_scalar(&name, s);
                }
                Value::Text(t) => {
                    let r = ranges_value(&name, &t).map_err(de::Error::custom)?;
                    out.set_ranges(&name, r);
                }
            }
        }
        Ok(out)
    }
}

impl<'de> Deserialize<'de> for Resources {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Resources, D::Error> {
        d.deserialize_map(ResourcesVisitor)
    }
}
