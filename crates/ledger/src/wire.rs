//! The length-prefixed binary primitives shared by every canonical encoding in this crate.
//!
//! Integers are big-endian and fixed-width; variable-length byte strings carry a `u32`
//! big-endian length prefix; lists carry a `u32` count. A [`Reader`] never panics and never
//! allocates more than the bytes it was given can justify.

/// Why a byte string could not be read (a field name and the byte offset where it failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireError {
    pub(crate) field: &'static str,
    pub(crate) offset: usize,
    pub(crate) problem: &'static str,
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at byte {}: {}",
            self.field, self.offset, self.problem
        )
    }
}

/// Appends primitives to a buffer.
#[derive(Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn new() -> Self {
        Self::default()
    }
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn fixed(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }
    /// A length-prefixed byte string. Callers keep lengths far below `u32::MAX` (every
    /// encoded value is bounded by a `MAX_*` constant checked on construction).
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.u32(u32::try_from(v.len()).unwrap_or(u32::MAX));
        self.buf.extend_from_slice(v);
    }
    pub(crate) fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }
    pub(crate) fn count(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    pub(crate) fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads primitives from a byte slice, failing (never panicking) on truncation.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    pub(crate) fn err(&self, field: &'static str, problem: &'static str) -> WireError {
        WireError {
            field,
            offset: self.pos,
            problem,
        }
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], WireError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| self.err(field, "truncated"))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, WireError> {
        Ok(self.take(1, field)?[0])
    }
    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, WireError> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4, field)?);
        Ok(u32::from_be_bytes(b))
    }
    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, WireError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8, field)?);
        Ok(u64::from_be_bytes(b))
    }
    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], WireError> {
        let mut b = [0u8; N];
        b.copy_from_slice(self.take(N, field)?);
        Ok(b)
    }
    /// A length-prefixed byte string of at most `max` bytes.
    pub(crate) fn bytes(&mut self, field: &'static str, max: usize) -> Result<&'a [u8], WireError> {
        let len = self.u32(field)? as usize;
        if len > max {
            return Err(self.err(field, "longer than allowed"));
        }
        self.take(len, field)
    }
    pub(crate) fn str(&mut self, field: &'static str, max: usize) -> Result<&'a str, WireError> {
        let at = self.pos;
        let b = self.bytes(field, max)?;
        std::str::from_utf8(b).map_err(|_| WireError {
            field,
            offset: at,
            problem: "not UTF-8",
        })
    }
    /// A list count of at most `max` items, each at least `min_item` bytes long (so a
    /// forged count cannot make the caller reserve memory the input does not back).
    pub(crate) fn count(
        &mut self,
        field: &'static str,
        max: usize,
        min_item: usize,
    ) -> Result<usize, WireError> {
        let n = self.u32(field)? as usize;
        if n > max {
            return Err(self.err(field, "too many items"));
        }
        if n.saturating_mul(min_item) > self.remaining() {
            return Err(self.err(field, "truncated"));
        }
        Ok(n)
    }
    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }
    pub(crate) fn finish(self, field: &'static str) -> Result<(), WireError> {
        if self.pos == self.data.len() {
            Ok(())
        } else {
            Err(self.err(field, "trailing bytes after the end"))
        }
    }
}
