//! The text formats every front end writes an extraction in, so that `mge extract`, the
//! browser page and the server give the same bytes for the same result: JSON lines (the
//! shared schema), brat standoff and a readable table.

use crate::extract::Extraction;

/// One line of JSONL in the shared schema (`{"text", "entities", "relations"}`), without
/// the line feed.
pub fn jsonl_line(r: &Extraction) -> String {
    // Serializing plain strings, numbers and vectors cannot fail.
    serde_json::to_string(r).unwrap_or_default()
}

/// A readable listing: the text, then one line per entity (index, type, char span, score,
/// mention) and one per relation.
pub fn table(r: &Extraction) -> String {
    let mut s = format!("{}\n", r.text);
    for (i, e) in r.entities.iter().enumerate() {
        s.push_str(&format!(
            "  [{i}] {:<12} {:>5}..{:<5} {:.2}  {}\n",
            e.label,
            e.start,
            e.end,
            e.score,
            one_line(&e.text)
        ));
    }
    for rel in &r.relations {
        let name = |i: usize| {
            r.entities
                .get(i)
                .map(|e| one_line(&e.text))
                .unwrap_or_else(|| format!("[{i}]"))
        };
        s.push_str(&format!(
            "  {} --{}--> {}  ({:.2})\n",
            name(rel.head),
            rel.label,
            name(rel.tail),
            rel.score
        ));
    }
    s
}

/// `text` with each run of line breaks and other whitespace shown as one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// brat standoff annotations (character offsets, as brat counts them). A mention that
/// crosses a line break becomes brat's fragment list (`start end;start end`), since brat
/// annotations stay within a line.
pub fn brat(r: &Extraction) -> String {
    let chars: Vec<char> = r.text.chars().collect();
    let mut s = String::new();
    for (i, e) in r.entities.iter().enumerate() {
        let mut fragments = Vec::new();
        let mut from = e.start;
        for at in e.start..e.end {
            if matches!(chars.get(at), Some('\n' | '\r')) {
                if from < at {
                    fragments.push(format!("{from} {at}"));
                }
                from = at + 1;
            }
        }
        if from < e.end {
            fragments.push(format!("{from} {}", e.end));
        }
        if fragments.is_empty() {
            fragments.push(format!("{} {}", e.start, e.end));
        }
        s.push_str(&format!(
            "T{}\t{} {}\t{}\n",
            i + 1,
            e.label,
            fragments.join(";"),
            one_line(&e.text)
        ));
    }
    for (i, rel) in r.relations.iter().enumerate() {
        s.push_str(&format!(
            "R{}\t{} Arg1:T{} Arg2:T{}\n",
            i + 1,
            rel.label,
            rel.head + 1,
            rel.tail + 1
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{EntityMention, RelationMention};

    fn mention(text: &str, start: usize, end: usize, label: &str) -> EntityMention {
        let chars: Vec<char> = text.chars().collect();
        EntityMention {
            start,
            end,
            text: chars[start..end].iter().collect(),
            label: label.to_string(),
            score: 0.875,
        }
    }

    fn sample(text: &str, spans: &[(usize, usize, &str)]) -> Extraction {
        Extraction {
            text: text.to_string(),
            entities: spans
                .iter()
                .map(|&(s, e, l)| mention(text, s, e, l))
                .collect(),
            relations: vec![RelationMention {
                head: 0,
                tail: 1,
                label: "Live_In".to_string(),
                score: 0.75,
            }],
        }
    }

    #[test]
    fn brat_counts_characters_and_splits_mentions_at_line_breaks() {
        // "Zoë" has a two-byte character: brat offsets are characters, not bytes.
        let text = "Zoë Zhang lives in New\nYork.";
        let r = sample(text, &[(0, 9, "Peop"), (19, 27, "Loc")]);
        let ann = brat(&r);
        let lines: Vec<&str> = ann.lines().collect();
        assert_eq!(lines[0], "T1\tPeop 0 9\tZoë Zhang");
        assert_eq!(lines[1], "T2\tLoc 19 22;23 27\tNew York");
        assert_eq!(lines[2], "R1\tLive_In Arg1:T1 Arg2:T2");
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn table_lists_entities_with_indexes_and_relations_by_name() {
        let text = "Zoë Zhang lives in Paris.";
        let r = sample(text, &[(0, 9, "Peop"), (19, 24, "Loc")]);
        let t = table(&r);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], text);
        assert!(lines[1].starts_with("  [0] Peop") && lines[1].ends_with("0.88  Zoë Zhang"));
        assert!(lines[2].contains("19..24") && lines[2].ends_with("Paris"));
        assert_eq!(lines[3], "  Zoë Zhang --Live_In--> Paris  (0.75)");
    }

    #[test]
    fn a_jsonl_line_is_the_shared_schema() {
        let r = sample(
            "Zoë Zhang lives in Paris.",
            &[(0, 9, "Peop"), (19, 24, "Loc")],
        );
        let line = jsonl_line(&r);
        assert!(!line.contains('\n'));
        assert!(line.starts_with(
            "{\"text\":\"Zoë Zhang lives in Paris.\",\"entities\":[{\"start\":0,\"end\":9,"
        ));
        assert!(line.contains("\"type\":\"Live_In\",\"score\":0.75"));
    }
}
