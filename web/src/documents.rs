//! Documents from the visitor's files, and the files the page writes from their results.
//!
//! Reading follows `mge extract`: a text file holds one document per line, a JSONL file one
//! JSON object with a `text` field per line; a CSV file one document per row, from a chosen
//! column. Writing gives the same bytes as `mge extract` for JSONL (`mge::formats`), brat
//! standoff in a zip (`doc-N.txt` and `doc-N.ann`, numbered as `mge extract --format brat`
//! numbers them) and a CSV of the triples. Pure code: tested natively.

use mge::extract::Extraction;
use mge::formats::{brat, jsonl_line};

/// Kinds of input file, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Text,
    Jsonl,
    Csv,
}

impl FileKind {
    /// The kind of a file by its extension; `None` for one the page does not read.
    pub fn of(name: &str) -> Option<Self> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "txt" | "text" | "md" | "markdown" => Some(FileKind::Text),
            "jsonl" | "ndjson" => Some(FileKind::Jsonl),
            "csv" => Some(FileKind::Csv),
            _ => None,
        }
    }
}

/// Why a file gives no documents; shown for that file while the others go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("not a file the page reads (use .txt, .md, .jsonl or .csv)")]
    UnknownKind,
    #[error("the file is empty")]
    Empty,
    #[error("not valid UTF-8 text (byte {0})")]
    NotUtf8(usize),
    #[error("line {0}: not a JSON object with a string field `text`")]
    NoText(usize),
    #[error("no column `{0}` in the CSV header (columns: {1})")]
    NoColumn(String, String),
    #[error("row {0}: a quoted field is not closed")]
    OpenQuote(usize),
}

/// The documents of a file, in order (the whole file at once; the page reads files piece
/// by piece with [`DocReader`], which gives the same documents).
pub fn documents(name: &str, bytes: &[u8], csv_column: &str) -> Result<Vec<String>, FileError> {
    let mut reader = DocReader::new(name, csv_column)?;
    let (mut docs, read) = reader.push(bytes);
    read?;
    docs.extend(reader.finish()?);
    Ok(docs.into_iter().map(|d| d.text).collect())
}

/// A document read from a file, with the file offset just past it (for progress by bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadDoc {
    pub text: String,
    pub byte_end: usize,
}

/// Reads a file's documents from its bytes given piece by piece, in pieces of any size (a
/// character, a line or a quoted CSV field may straddle two): only the unfinished document
/// is held between pieces, so memory does not grow with the file. The documents are those
/// of `mge extract`: a line of a text file, the `text` field of a JSONL line, a CSV row's
/// chosen column. An error stops the file; the documents given before it stand.
#[derive(Debug)]
pub struct DocReader {
    kind: FileKind,
    csv_column: String,
    /// Bytes taken so far.
    offset: usize,
    /// The start of a character cut by the end of the last piece.
    utf8_tail: Vec<u8>,
    /// Whether the byte-order mark has been looked for.
    started: bool,
    /// Text files and JSONL: the pieces of the line read so far (joined once, at its end,
    /// so that a line of megabytes is not copied as it grows), and the lines finished.
    line: Vec<String>,
    lines: usize,
    csv: CsvState,
    /// The CSV column to take, once the header is read.
    column: Option<usize>,
    /// Whether anything but white space has been read; until then documents (blank lines)
    /// are held back, because a file of only white space is an error.
    content: bool,
    held: Vec<ReadDoc>,
}

/// Where a CSV parse stands between two pieces (RFC 4180: quoted fields may hold commas,
/// line breaks and doubled quotes).
#[derive(Debug, Default)]
struct CsvState {
    field: String,
    row: Vec<String>,
    quoted: bool,
    /// A quote inside a quoted field: doubled (a quote) or the field's end, by the next char.
    quote_seen: bool,
    /// A carriage return outside quotes: dropped before a line feed, kept otherwise.
    cr_seen: bool,
    rows: usize,
}

impl DocReader {
    /// A reader for the file `name` (its kind from its extension).
    pub fn new(name: &str, csv_column: &str) -> Result<Self, FileError> {
        Ok(DocReader {
            kind: FileKind::of(name).ok_or(FileError::UnknownKind)?,
            csv_column: csv_column.to_string(),
            offset: 0,
            utf8_tail: Vec::new(),
            started: false,
            line: Vec::new(),
            lines: 0,
            csv: CsvState::default(),
            column: None,
            content: false,
            held: Vec::new(),
        })
    }

    /// Bytes taken so far.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Takes the next piece of the file; returns the documents it completes and, when the
    /// file turns out bad in this piece, why (the documents before the fault are returned
    /// too; the reader is not to be used after an error).
    pub fn push(&mut self, bytes: &[u8]) -> (Vec<ReadDoc>, Result<(), FileError>) {
        let mut joined;
        let bytes = if self.utf8_tail.is_empty() {
            bytes
        } else {
            joined = std::mem::take(&mut self.utf8_tail);
            joined.extend_from_slice(bytes);
            &joined[..]
        };
        // `offset` counts the bytes before `bytes[0]` (a cut character's start included
        // in `bytes`, not in `offset`).
        let base = self.offset;
        let (valid, fault) = match std::str::from_utf8(bytes) {
            Ok(_) => (bytes.len(), None),
            // A character cut by the end of the piece: its start waits for the next.
            Err(e) if e.error_len().is_none() => {
                self.utf8_tail = bytes[e.valid_up_to()..].to_vec();
                (e.valid_up_to(), None)
            }
            Err(e) => (
                e.valid_up_to(),
                Some(FileError::NotUtf8(base + e.valid_up_to() + 1)),
            ),
        };
        let mut text = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        let mut at = base;
        if !self.started && !text.is_empty() {
            self.started = true;
            if let Some(rest) = text.strip_prefix('\u{feff}') {
                at += 3;
                text = rest;
            }
        }
        let mut out = Vec::new();
        let taken = self.take(text, at, &mut out);
        self.offset = base + valid;
        let docs = self.release(out);
        (docs, taken.and(fault.map_or(Ok(()), Err)))
    }

    /// The end of the file: the last document, or why the file has none.
    pub fn finish(&mut self) -> Result<Vec<ReadDoc>, FileError> {
        if !self.utf8_tail.is_empty() {
            return Err(FileError::NotUtf8(self.offset + 1));
        }
        let end = self.offset;
        let mut out = Vec::new();
        match self.kind {
            FileKind::Text | FileKind::Jsonl => {
                if !self.line.is_empty() {
                    self.end_line("", end, &mut out)?;
                }
            }
            FileKind::Csv => {
                let c = &mut self.csv;
                if c.quote_seen {
                    c.quote_seen = false;
                    c.quoted = false;
                }
                if c.cr_seen {
                    c.cr_seen = false;
                    c.field.push('\r');
                }
                if c.quoted {
                    return Err(FileError::OpenQuote(c.rows + 1));
                }
                if !c.field.is_empty() || !c.row.is_empty() {
                    self.end_row(end, &mut out)?;
                }
            }
        }
        if !self.content {
            return Err(FileError::Empty);
        }
        if self.kind == FileKind::Csv && self.column.is_none() {
            return Err(FileError::Empty);
        }
        Ok(self.release(out))
    }

    /// Documents held back until the file shows content, then everything in order.
    fn release(&mut self, out: Vec<ReadDoc>) -> Vec<ReadDoc> {
        if self.content {
            let mut all = std::mem::take(&mut self.held);
            all.extend(out);
            all
        } else {
            self.held.extend(out);
            Vec::new()
        }
    }

    /// Reads `text`, which begins at file offset `at`.
    fn take(&mut self, text: &str, mut at: usize, out: &mut Vec<ReadDoc>) -> Result<(), FileError> {
        if !self.content && !text.trim().is_empty() {
            self.content = true;
        }
        match self.kind {
            FileKind::Text | FileKind::Jsonl => {
                for piece in text.split_inclusive('\n') {
                    at += piece.len();
                    match piece.strip_suffix('\n') {
                        Some(last) => self.end_line(last, at, out)?,
                        None => self.line.push(piece.to_string()),
                    }
                }
            }
            FileKind::Csv => {
                for c in text.chars() {
                    at += c.len_utf8();
                    self.csv_char(c, at, out)?;
                }
            }
        }
        Ok(())
    }

    /// A line of a text or JSONL file is complete: the pieces read before and `last`
    /// (`end`: the offset past it).
    fn end_line(
        &mut self,
        last: &str,
        end: usize,
        out: &mut Vec<ReadDoc>,
    ) -> Result<(), FileError> {
        self.lines += 1;
        let pieces = std::mem::take(&mut self.line);
        let mut line =
            String::with_capacity(pieces.iter().map(String::len).sum::<usize>() + last.len());
        for p in pieces {
            line.push_str(&p);
        }
        line.push_str(last);
        line.truncate(line.trim_end_matches('\r').len());
        let text = match self.kind {
            FileKind::Jsonl => serde_json::from_str::<serde_json::Value>(&line)
                .ok()
                .and_then(|v| v.get("text")?.as_str().map(str::to_string))
                .ok_or(FileError::NoText(self.lines))?,
            _ => line,
        };
        out.push(ReadDoc {
            text,
            byte_end: end,
        });
        Ok(())
    }

    /// One character of a CSV file (`end`: the offset past it).
    fn csv_char(&mut self, c: char, end: usize, out: &mut Vec<ReadDoc>) -> Result<(), FileError> {
        let s = &mut self.csv;
        if s.quote_seen {
            s.quote_seen = false;
            if c == '"' {
                s.field.push('"');
                return Ok(());
            }
            s.quoted = false;
        }
        if s.quoted {
            match c {
                '"' => s.quote_seen = true,
                _ => s.field.push(c),
            }
            return Ok(());
        }
        if s.cr_seen {
            s.cr_seen = false;
            if c != '\n' {
                s.field.push('\r');
            }
        }
        match c {
            '"' if s.field.is_empty() => s.quoted = true,
            ',' => {
                let f = std::mem::take(&mut s.field);
                s.row.push(f);
            }
            '\r' => s.cr_seen = true,
            '\n' => self.end_row(end, out)?,
            _ => s.field.push(c),
        }
        Ok(())
    }

    /// A CSV row is complete: the header names the column, later rows give documents.
    fn end_row(&mut self, end: usize, out: &mut Vec<ReadDoc>) -> Result<(), FileError> {
        let s = &mut self.csv;
        let f = std::mem::take(&mut s.field);
        s.row.push(f);
        let row = std::mem::take(&mut s.row);
        s.rows += 1;
        match self.column {
            None => {
                let at = row
                    .iter()
                    .position(|h| h.trim() == self.csv_column.trim())
                    .ok_or_else(|| FileError::NoColumn(self.csv_column.clone(), row.join(", ")))?;
                self.column = Some(at);
            }
            // A blank line is no row.
            Some(_) if row.len() == 1 && row[0].is_empty() => {}
            Some(at) => out.push(ReadDoc {
                text: row.into_iter().nth(at).unwrap_or_default(),
                byte_end: end,
            }),
        }
        Ok(())
    }
}

/// JSONL of extractions, one line each: what `mge extract --format jsonl` writes.
pub fn export_jsonl<'a>(docs: impl IntoIterator<Item = &'a Extraction>) -> String {
    let mut s = String::new();
    for d in docs {
        s.push_str(&jsonl_line(d));
        s.push('\n');
    }
    s
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// CSV of every triple: its document (file name and document number in it), subject,
/// relation, object, their scores and character offsets.
pub fn export_csv<'a>(docs: impl IntoIterator<Item = (&'a str, usize, &'a Extraction)>) -> String {
    let mut s = String::from(
        "file,document,subject,subject_type,subject_start,subject_end,subject_score,relation,relation_score,object,object_type,object_start,object_end,object_score\n",
    );
    for (file, n, ex) in docs {
        for r in &ex.relations {
            let (Some(h), Some(t)) = (ex.entities.get(r.head), ex.entities.get(r.tail)) else {
                continue;
            };
            let fields = [
                csv_field(file),
                n.to_string(),
                csv_field(&h.text),
                csv_field(&h.label),
                h.start.to_string(),
                h.end.to_string(),
                format!("{:.4}", h.score),
                csv_field(&r.label),
                format!("{:.4}", r.score),
                csv_field(&t.text),
                csv_field(&t.label),
                t.start.to_string(),
                t.end.to_string(),
                format!("{:.4}", t.score),
            ];
            s.push_str(&fields.join(","));
            s.push('\n');
        }
    }
    s
}

/// brat standoff of every document in one zip: `doc-N.txt` and `doc-N.ann`, N counting from
/// 1 over all documents, as `mge extract --format brat` names them.
pub fn export_brat_zip<'a>(docs: impl IntoIterator<Item = &'a Extraction>) -> Vec<u8> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, d) in docs.into_iter().enumerate() {
        files.push((format!("doc-{}.txt", i + 1), d.text.as_bytes().to_vec()));
        files.push((format!("doc-{}.ann", i + 1), brat(d).into_bytes()));
    }
    zip_stored(&files)
}

/// CRC-32 (IEEE), as zip needs it.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A zip archive of `files` stored without compression (text compresses, but any unzip
/// reads stored entries and this needs no compression library in the page).
pub fn zip_stored(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    let le16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let le32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    // The fields that a file's local header and its central directory entry share, from
    // "version needed" to the name's length: version 2.0, UTF-8 names (flag bit 11), stored,
    // no time, a fixed date.
    let shared = |v: &mut Vec<u8>, crc: u32, size: u32, name_len: u16| {
        le16(v, 20);
        le16(v, 0x0800);
        le16(v, 0);
        le16(v, 0);
        le16(v, 0x21);
        le32(v, crc);
        le32(v, size);
        le32(v, size);
        le16(v, name_len);
    };
    for (name, data) in files {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let (size, name_len) = (data.len() as u32, name.len() as u16);
        le32(&mut out, 0x0403_4b50);
        shared(&mut out, crc, size, name_len);
        le16(&mut out, 0); // no extra field
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        le32(&mut central, 0x0201_4b50);
        le16(&mut central, 20); // version made by
        shared(&mut central, crc, size, name_len);
        for _ in 0..4 {
            le16(&mut central, 0); // extra, comment, disk, internal attributes
        }
        le32(&mut central, 0); // external attributes
        le32(&mut central, offset);
        central.extend_from_slice(name.as_bytes());
    }
    let (dir_at, dir_len) = (out.len() as u32, central.len() as u32);
    out.extend_from_slice(&central);
    le32(&mut out, 0x0605_4b50);
    le16(&mut out, 0);
    le16(&mut out, 0);
    le16(&mut out, files.len() as u16);
    le16(&mut out, files.len() as u16);
    le32(&mut out, dir_len);
    le32(&mut out, dir_at);
    le16(&mut out, 0);
    out
}

/// The part of a document's extraction inside chars `start..end` of its text, as an
/// extraction of that part alone: the mentions within it with offsets from its start, and
/// the relations between two of them (a long document is shown a page at a time).
pub fn page_of(ex: &Extraction, start: usize, end: usize) -> Extraction {
    let text: String = ex
        .text
        .chars()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect();
    let mut index = vec![None; ex.entities.len()];
    let mut entities = Vec::new();
    for (i, e) in ex.entities.iter().enumerate() {
        if e.start >= start && e.end <= end {
            index[i] = Some(entities.len());
            let mut e = e.clone();
            e.start -= start;
            e.end -= start;
            entities.push(e);
        }
    }
    let relations = ex
        .relations
        .iter()
        .filter_map(|r| {
            let (head, tail) = (index.get(r.head).copied()??, index.get(r.tail).copied()??);
            let mut r = r.clone();
            r.head = head;
            r.tail = tail;
            Some(r)
        })
        .collect();
    Extraction {
        text,
        entities,
        relations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mge::extract::{EntityMention, RelationMention};

    fn ex(text: &str) -> Extraction {
        Extraction {
            text: text.to_string(),
            entities: vec![
                EntityMention {
                    start: 0,
                    end: 4,
                    text: "Rome".into(),
                    label: "Loc".into(),
                    score: 0.99,
                },
                EntityMention {
                    start: 11,
                    end: 16,
                    text: "Italy".into(),
                    label: "Loc".into(),
                    score: 0.875,
                },
            ],
            relations: vec![RelationMention {
                head: 0,
                tail: 1,
                label: "Located_In".into(),
                score: 0.5,
            }],
        }
    }

    #[test]
    fn text_files_have_a_document_per_line_as_mge_extract_reads_them() {
        let docs = documents("a.txt", b"One.\r\n\nTwo.\nThree.\n", "text");
        assert_eq!(
            docs,
            Ok(vec![
                "One.".into(),
                "".into(),
                "Two.".into(),
                "Three.".into()
            ])
        );
        assert_eq!(
            documents("b.MD", b"\xef\xbb\xbfOnly", "text"),
            Ok(vec!["Only".into()])
        );
    }

    #[test]
    fn jsonl_takes_the_text_field_and_names_a_bad_line() {
        let ok = documents(
            "a.jsonl",
            b"{\"text\":\"A.\",\"id\":1}\n{\"text\":\"B\\nC\"}\n",
            "",
        );
        assert_eq!(ok, Ok(vec!["A.".into(), "B\nC".into()]));
        let bad = documents("a.jsonl", b"{\"text\":\"A.\"}\n{\"title\":\"B\"}\n", "");
        assert_eq!(bad, Err(FileError::NoText(2)));
        assert_eq!(
            documents("a.jsonl", b"not json", ""),
            Err(FileError::NoText(1))
        );
    }

    #[test]
    fn csv_reads_the_chosen_column_with_quotes() {
        let csv = b"id,text,source\n1,\"Rome, the capital.\",x\n2,\"She said \"\"hi\"\"\nthen left.\",y\r\n3,Plain,z";
        let docs = documents("t.csv", csv, "text");
        assert_eq!(
            docs,
            Ok(vec![
                "Rome, the capital.".into(),
                "She said \"hi\"\nthen left.".into(),
                "Plain".into()
            ])
        );
        assert_eq!(
            documents("t.csv", csv, "body"),
            Err(FileError::NoColumn(
                "body".into(),
                "id, text, source".into()
            ))
        );
        assert_eq!(
            documents("t.csv", b"text\n\"open", "text"),
            Err(FileError::OpenQuote(2))
        );
    }

    /// Reads `bytes` with pieces of `size` bytes.
    fn in_pieces(name: &str, bytes: &[u8], size: usize) -> Result<Vec<ReadDoc>, FileError> {
        let mut r = DocReader::new(name, "text")?;
        let mut docs = Vec::new();
        for piece in bytes.chunks(size) {
            let (got, read) = r.push(piece);
            docs.extend(got);
            read?;
        }
        docs.extend(r.finish()?);
        Ok(docs)
    }

    #[test]
    fn reading_in_pieces_gives_the_documents_of_the_whole_file() {
        let files: [(&str, &[u8]); 6] = [
            ("a.txt", "\n\u{feff}Zürich liegt am See.\r\n\r\nΑθήνα 🙂 ok\nlast".as_bytes()),
            ("b.txt", "\u{feff}\n\nSee Zürich.\n".as_bytes()),
            ("c.jsonl", "{\"text\":\"Ünïcödé 🙂\"}\r\n{\"text\":\"B\\nC\"}\n".as_bytes()),
            (
                "d.csv",
                "id,text\r\n1,\"Rome, \"\"the\"\" capital\r\nof Italy.\"\r\n\r\n2,Zürich\r3\n3,\"\"\n"
                    .as_bytes(),
            ),
            ("e.csv", "text\n\"a\"\"\"".as_bytes()),
            ("f.txt", b"no final line feed"),
        ];
        for (name, bytes) in files {
            let whole = documents(name, bytes, "text").unwrap();
            for size in [1, 2, 3, 5, 7, 64] {
                let docs = in_pieces(name, bytes, size).unwrap();
                let texts: Vec<String> = docs.iter().map(|d| d.text.clone()).collect();
                assert_eq!(texts, whole, "{name} in pieces of {size}");
                // Each document ends where the next begins; the last at the file's end
                // (or its final line feed).
                let ends: Vec<usize> = docs.iter().map(|d| d.byte_end).collect();
                assert!(ends.windows(2).all(|w| w[0] < w[1]), "{name}: {ends:?}");
                assert!(ends
                    .last()
                    .is_some_and(|&e| e <= bytes.len() && e + 2 >= bytes.len()));
            }
        }
        let csv = documents("d.csv", files[3].1, "text").unwrap();
        assert_eq!(csv, ["Rome, \"the\" capital\r\nof Italy.", "Zürich\r3", ""]);
        assert_eq!(documents("e.csv", files[4].1, "text").unwrap(), ["a\""]);
        assert_eq!(
            documents("a.txt", files[0].1, "text").unwrap()[1],
            "\u{feff}Zürich liegt am See."
        );
    }

    #[test]
    fn a_fault_in_a_later_piece_keeps_the_documents_before_it() {
        let mut r = DocReader::new("a.jsonl", "").unwrap();
        let (docs, read) = r.push(b"{\"text\":\"A.\"}\n{\"text\":");
        assert_eq!((docs.len(), read), (1, Ok(())));
        let (docs, read) = r.push(b" 3}\n{\"text\":\"C.\"}\n");
        assert_eq!((docs.len(), read), (0, Err(FileError::NoText(2))));
        let mut r = DocReader::new("a.txt", "").unwrap();
        let (docs, read) = r.push(b"one\ntwo\nthr\xffee\n");
        assert_eq!(docs.len(), 2);
        assert_eq!(read, Err(FileError::NotUtf8(12)));
        // A character cut at the end of the file is no character.
        let mut r = DocReader::new("a.txt", "").unwrap();
        let (docs, read) = r.push("ok\nZ\u{fc}".as_bytes().split_last().unwrap().1);
        assert_eq!((docs.len(), read), (1, Ok(())));
        assert_eq!(r.finish(), Err(FileError::NotUtf8(5)));
    }

    #[test]
    fn bad_files_say_why() {
        assert_eq!(documents("x.pdf", b"%PDF", ""), Err(FileError::UnknownKind));
        assert_eq!(documents("noext", b"text", ""), Err(FileError::UnknownKind));
        assert_eq!(documents("e.txt", b" \n\n", ""), Err(FileError::Empty));
        assert_eq!(
            documents("u.txt", b"ok \xff no", ""),
            Err(FileError::NotUtf8(4))
        );
    }

    #[test]
    fn exports_match_the_command_line_formats() {
        let docs = [ex("Rome is in Italy."), ex("Rome is in Italy, too.")];
        let jsonl = export_jsonl(&docs);
        assert_eq!(jsonl.lines().count(), 2);
        assert_eq!(jsonl.lines().next(), Some(jsonl_line(&docs[0]).as_str()));
        let csv = export_csv([("a, b.txt", 1, &docs[0]), ("c.txt", 3, &docs[1])]);
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[1],
            "\"a, b.txt\",1,Rome,Loc,0,4,0.9900,Located_In,0.5000,Italy,Loc,11,16,0.8750"
        );
    }

    #[test]
    fn the_zip_is_well_formed() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let zip = export_brat_zip(&[ex("Rome is in Italy.")]);
        // Local header, then the first file's name and data.
        assert_eq!(&zip[..4], b"PK\x03\x04");
        assert_eq!(&zip[30..39], b"doc-1.txt");
        assert_eq!(&zip[39..56], b"Rome is in Italy.");
        // End of central directory: two entries, directory right after the data.
        let end = &zip[zip.len() - 22..];
        assert_eq!(&end[..4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([end[10], end[11]]), 2);
        let dir_at = u32::from_le_bytes([end[16], end[17], end[18], end[19]]) as usize;
        assert_eq!(&zip[dir_at..dir_at + 4], b"PK\x01\x02");
    }

    #[test]
    fn a_page_keeps_its_mentions_and_the_relations_inside_it() {
        use mge::extract::{EntityMention, RelationMention};
        let text = "Ann lives in Rome. Bob works for Acme in Oslo.";
        let ent = |start: usize, end: usize, label: &str| EntityMention {
            start,
            end,
            text: text[start..end].to_string(),
            label: label.into(),
            score: 0.9,
        };
        let rel = |head, tail, label: &str| RelationMention {
            head,
            tail,
            label: label.into(),
            score: 0.8,
        };
        let ex = Extraction {
            text: text.into(),
            entities: vec![
                ent(0, 3, "Peop"),
                ent(13, 17, "Loc"),
                ent(19, 22, "Peop"),
                ent(33, 37, "Org"),
                ent(41, 45, "Loc"),
            ],
            relations: vec![
                rel(0, 1, "Live_In"),
                rel(2, 3, "Work_For"),
                rel(0, 3, "Work_For"),
                rel(3, 4, "OrgBased_In"),
            ],
        };
        let second = page_of(&ex, 19, text.chars().count());
        assert_eq!(second.text, "Bob works for Acme in Oslo.");
        let spans: Vec<_> = second
            .entities
            .iter()
            .map(|e| (e.start, e.end, &second.text[e.start..e.end]))
            .collect();
        assert_eq!(spans, [(0, 3, "Bob"), (14, 18, "Acme"), (22, 26, "Oslo")]);
        // The relation from Ann (first page) to Acme is on neither page alone.
        let rels: Vec<_> = second.relations.iter().map(|r| (r.head, r.tail)).collect();
        assert_eq!(rels, [(0, 1), (1, 2)]);
        let first = page_of(&ex, 0, 19);
        assert_eq!((first.entities.len(), first.relations.len()), (2, 1));
    }
}
