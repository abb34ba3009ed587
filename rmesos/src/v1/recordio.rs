//! RecordIO, the framing of Mesos's v1 event streams: each record is its
//! length in bytes as ASCII decimal, a `\n`, then the record
//! (`13\n{"type":"X"}`). [`encode`] frames one record; [`Decoder`] takes
//! the bytes of a stream as they arrive (a record may be split across
//! chunks, a chunk may hold several) and returns whole records.
//!
//! Input is untrusted: a length that is not decimal, longer than
//! [`MAX_LENGTH_DIGITS`], or over the decoder's record limit is an error (the
//! stream is unusable after it); so are bytes left over at the end
//! ([`Decoder::finish`]).

use bytes::{Buf, Bytes, BytesMut};

/// Digits a length may have (a u64 has 20; Mesos's records are far smaller).
pub const MAX_LENGTH_DIGITS: usize = 20;

/// Default largest record a [`Decoder`] accepts: 64 MiB.
pub const DEFAULT_MAX_RECORD: usize = 64 * 1024 * 1024;

/// Frames one record.
pub fn encode(record: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(record.len() + 12);
    out.extend_from_slice(record.len().to_string().as_bytes());
    out.extend_from_slice(b"\n");
    out.extend_from_slice(record);
    out.freeze()
}

/// Why a stream's bytes are not RecordIO.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordIoError {
    #[error("record length is not a decimal number: {0:?}")]
    BadLength(String),
    #[error("record of {0} bytes is over the limit of {1}")]
    TooLong(u64, usize),
    #[error("stream ended inside a record ({0} bytes left over)")]
    Truncated(usize),
}

/// Splits a stream into records; see the module doc.
#[derive(Debug)]
pub struct Decoder {
    buf: BytesMut,
    /// The length of the record being read, once its header is complete.
    want: Option<usize>,
    max_record: usize,
    failed: Option<RecordIoError>,
}

impl Default for Decoder {
    fn default() -> Decoder {
        Decoder::new(DEFAULT_MAX_RECORD)
    }
}

impl Decoder {
    pub fn new(max_record: usize) -> Decoder {
        Decoder { buf: BytesMut::new(), want: None, max_record, failed: None }
    }

    /// Takes the next bytes of the stream; returns the records they
    /// complete, in order. After an error every call returns it again.
    pub fn decode(&mut self, chunk: &[u8]) -> Result<Vec<Bytes>, RecordIoError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        loop {
            let want = match self.want {
                Some(n) => n,
                None => match self.header() {
                    Ok(Some(n)) => n,
                    Ok(None) => break,
                    Err(e) => {
                        self.failed = Some(e.clone());
                        return Err(e);
                    }
                },
            };
            if self.buf.len() < want {
                self.want = Some(want);
                break;
            }
            out.push(self.buf.split_to(want).freeze());
            self.want = None;
        }
        Ok(out)
    }

    /// Reads a complete length header off the buffer, if there is one.
    fn header(&mut self) -> Result<Option<usize>, RecordIoError> {
        let Some(nl) = self.buf.iter().take(MAX_LENGTH_DIGITS + 1).position(|b| *b == b'\n') else {
            if self.buf.len() > MAX_LENGTH_DIGITS || !self.buf.iter().all(u8::is_ascii_digit) {
                return Err(RecordIoError::BadLength(
                    String::from_utf8_lossy(&self.buf[..self.buf.len().min(24)]).into(),
                ));
            }
            return Ok(None);
        };
        let digits = &self.buf[..nl];
        let text = String::from_utf8_lossy(digits).into_owned();
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(RecordIoError::BadLength(text));
        }
        let n: u64 = text.parse().map_err(|_| RecordIoError::BadLength(text.clone()))?;
        if n > self.max_record as u64 {
            return Err(RecordIoError::TooLong(n, self.max_record));
        }
        self.buf.advance(nl + 1);
        Ok(Some(n as usize))
    }

    /// The stream ended: an error if it ended inside a record.
    pub fn finish(&self) -> Result<(), RecordIoError> {
        match (&self.failed, self.buf.len()) {
            (Some(e), _) => Err(e.clone()),
            (None, 0) if self.want.is_none() => Ok(()),
            (None, n) => Err(RecordIoError::Truncated(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_whole_and_split_at_every_byte() {
        let records: Vec<&[u8]> = vec![b"{\"type\":\"HEARTBEAT\"}", b"", b"x", &[b'y'; 300]];
        let stream: Vec<u8> = records.iter().flat_map(|r| encode(r).to_vec()).collect();
        assert_eq!(&stream[..24], b"20\n{\"type\":\"HEARTBEAT\"}0");
        let mut d = Decoder::default();
        let got = d.decode(&stream).unwrap();
        assert_eq!(got.iter().map(|b| b.as_ref()).collect::<Vec<_>>(), records);
        d.finish().unwrap();
        for split in 0..stream.len() {
            let mut d = Decoder::default();
            let mut got = d.decode(&stream[..split]).unwrap();
            got.extend(d.decode(&stream[split..]).unwrap());
            assert_eq!(got.len(), records.len(), "split at {split}");
            d.finish().unwrap();
        }
        // One byte at a time.
        let mut d = Decoder::default();
        let n: usize = stream.iter().map(|b| d.decode(&[*b]).unwrap().len()).sum();
        assert_eq!(n, records.len());
    }

    #[test]
    fn bad_streams_are_errors() {
        let mut d = Decoder::default();
        assert_eq!(d.decode(b"1x\nab"), Err(RecordIoError::BadLength("1x".into())));
        assert!(d.decode(b"1\na").is_err(), "an error sticks");
        let mut d = Decoder::default();
        assert!(matches!(d.decode(b"abc"), Err(RecordIoError::BadLength(_))));
        let mut d = Decoder::default();
        assert!(matches!(d.decode(&[b'9'; 30]), Err(RecordIoError::BadLength(_))));
        let mut d = Decoder::new(10);
        assert_eq!(d.decode(b"11\n"), Err(RecordIoError::TooLong(11, 10)));
        let mut d = Decoder::default();
        assert_eq!(d.decode(b"\nab"), Err(RecordIoError::BadLength("".into())));
        let mut d = Decoder::default();
        assert!(d.decode(b"5\nab").unwrap().is_empty());
        assert_eq!(d.finish(), Err(RecordIoError::Truncated(2)));
        let mut d = Decoder::default();
        d.decode(b"12").unwrap();
        assert_eq!(d.finish(), Err(RecordIoError::Truncated(2)));
    }
}
