//! Floats that survive a JSON round trip whatever their value.
//!
//! JSON has no NaN or infinity; serde_json writes them as `null`, which then fails to read
//! back into an `f64` (and, inside an optional or flattened field, silently drops the data
//! around it). Journal records write finite values as numbers and the others as the strings
//! `"NaN"`, `"inf"` and `"-inf"`, and read both forms back bit for bit (finite values through
//! serde_json's `float_roundtrip`).
//!
//! ```
//! #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
//! struct M {
//!     #[serde(with = "gmmtune::journal::float")]
//!     bic: f64,
//!     #[serde(with = "gmmtune::journal::float::option")]
//!     threshold: Option<f64>,
//! }
//! let m = M { bic: f64::INFINITY, threshold: Some(f64::NAN) };
//! let text = serde_json::to_string(&m).unwrap();
//! assert_eq!(text, r#"{"bic":"inf","threshold":"NaN"}"#);
//! let back: M = serde_json::from_str(&text).unwrap();
//! assert_eq!(back.bic, f64::INFINITY);
//! assert!(back.threshold.unwrap().is_nan());
//! ```

use serde::de::{self, Deserializer, Visitor};
use serde::Serializer;

/// Writes `value` as a JSON number, or as `"NaN"`, `"inf"`, `"-inf"`.
pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.is_finite() {
        serializer.serialize_f64(*value)
    } else if value.is_nan() {
        serializer.serialize_str("NaN")
    } else if *value > 0.0 {
        serializer.serialize_str("inf")
    } else {
        serializer.serialize_str("-inf")
    }
}

/// Reads what [`serialize`] wrote (a number, or one of the three strings).
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    deserializer.deserialize_any(FloatVisitor)
}

struct FloatVisitor;

impl Visitor<'_> for FloatVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(r#"a number or one of "NaN", "inf", "-inf""#)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        match v {
            "NaN" => Ok(f64::NAN),
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
        }
    }
}

/// The same for `Option<f64>`: `None` is `null`.
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `None` as `null`, a value as [`super::serialize`] does.
    pub fn serialize<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => super::serialize(v, serializer),
            None => serializer.serialize_none(),
        }
    }

    /// Reads `null` as `None`, anything else as [`super::deserialize`] does.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<f64>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(with = "super")] f64);
        Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize)]
    struct Both {
        #[serde(with = "super")]
        plain: f64,
        #[serde(with = "super::option")]
        optional: Option<f64>,
    }

    #[test]
    fn every_value_reads_back_bit_for_bit() {
        let values = [
            0.0,
            -0.0,
            1.0 / 3.0,
            f64::MIN_POSITIVE,
            f64::MAX,
            -1e-300,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for v in values {
            for optional in [None, Some(v)] {
                let text = serde_json::to_string(&Both { plain: v, optional }).unwrap();
                let back: Both = serde_json::from_str(&text).unwrap();
                assert_eq!(back.plain.to_bits(), v.to_bits(), "{text}");
                assert_eq!(back.optional.map(f64::to_bits), optional.map(f64::to_bits));
            }
        }
    }

    #[test]
    fn other_strings_and_types_are_errors() {
        for text in [
            r#"{"plain":"nan","optional":null}"#,
            r#"{"plain":null,"optional":null}"#,
            r#"{"plain":true,"optional":null}"#,
            r#"{"plain":1,"optional":"Infinity"}"#,
        ] {
            assert!(serde_json::from_str::<Both>(text).is_err(), "{text}");
        }
    }
}
