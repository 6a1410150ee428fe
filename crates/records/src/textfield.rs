//! Serde for [`autosurgeon::Text`] fields: a plain string in JSON.

/// `#[serde(with = "hearth_records::text_serde")]` on an `autosurgeon::Text` field.
pub mod text_serde {
    use autosurgeon::Text;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialize as a string.
    pub fn serialize<S: Serializer>(t: &Text, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(t.as_str())
    }

    /// Deserialize from a string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        Ok(Text::with_value(String::deserialize(d)?))
    }
}

/// Replace the content of a hydrated text with `new`, as a minimal diff (so concurrent edits
/// merge). A text that was not hydrated from the document is replaced whole.
pub(crate) fn absorb_text(current: &mut autosurgeon::Text, new: &autosurgeon::Text) {
    if current.as_str() != new.as_str() {
        current.update(new.as_str());
    }
}
