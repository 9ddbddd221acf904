//! Layout of the annotated text: pieces (mentions, words, spaces, line breaks), line
//! breaking at a given width, and the relation arcs of each line.
//!
//! The page measures the width of every piece (canvas `measureText`, same font as the text)
//! and this module does the rest, so the layout is testable without a browser. Breaking the
//! lines here rather than letting the browser wrap the text is what lets arcs be laid out
//! per line: each line gets its own band of arcs above it, and a relation whose ends fall
//! on different lines is drawn as two open-ended parts.

use crate::arcs::{assign_levels, level_count, Extent};

/// What a piece of the text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceKind {
    /// A highlighted entity mention (index into the extraction's `entities`).
    Mention(usize),
    /// A run of non-space characters outside mentions.
    Word,
    /// A run of white space other than line feeds.
    Space,
    /// A line feed (forces a new line).
    Newline,
}

/// A run of the text, in chars (`end` exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub start: usize,
    pub end: usize,
    pub kind: PieceKind,
}

/// The pieces of `text` (char offsets) given entity spans `(start, end)`, and for each
/// entity the piece that shows it.
///
/// Spans are clamped to the text; empty ones are not shown (`None`). A span that overlaps
/// an earlier shown one is not highlighted itself: it maps to the mention piece it overlaps,
/// so its relations still have somewhere to attach.
pub fn split_pieces(text: &str, entities: &[(usize, usize)]) -> (Vec<Piece>, Vec<Option<usize>>) {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let mut order: Vec<usize> = (0..entities.len()).collect();
    order.sort_by_key(|&i| (entities[i].0, std::cmp::Reverse(entities[i].1), i));
    // Kept mention spans, sorted and disjoint.
    let mut kept: Vec<(usize, usize, usize)> = Vec::new();
    for &i in &order {
        let (s, e) = (entities[i].0.min(n), entities[i].1.min(n));
        if s >= e {
            continue;
        }
        if kept.last().is_some_and(|&(_, ke, _)| s < ke) {
            continue;
        }
        kept.push((s, e, i));
    }

    let mut pieces = Vec::new();
    let mut entity_piece = vec![None; entities.len()];
    let mut pos = 0;
    let push_plain = |from: usize, to: usize, pieces: &mut Vec<Piece>| {
        let mut i = from;
        while i < to {
            let c = chars[i];
            if c == '\n' {
                pieces.push(Piece {
                    start: i,
                    end: i + 1,
                    kind: PieceKind::Newline,
                });
                i += 1;
                continue;
            }
            let space = c.is_whitespace();
            let mut j = i + 1;
            while j < to && chars[j] != '\n' && chars[j].is_whitespace() == space {
                j += 1;
            }
            pieces.push(Piece {
                start: i,
                end: j,
                kind: if space {
                    PieceKind::Space
                } else {
                    PieceKind::Word
                },
            });
            i = j;
        }
    };
    for &(s, e, ent) in &kept {
        push_plain(pos, s, &mut pieces);
        entity_piece[ent] = Some(pieces.len());
        pieces.push(Piece {
            start: s,
            end: e,
            kind: PieceKind::Mention(ent),
        });
        pos = e;
    }
    push_plain(pos, n, &mut pieces);

    // Entities not shown themselves attach to the mention they overlap.
    for (i, &(s, e)) in entities.iter().enumerate() {
        let (s, e) = (s.min(n), e.min(n));
        if entity_piece[i].is_some() || s >= e {
            continue;
        }
        entity_piece[i] = pieces
            .iter()
            .position(|p| matches!(p.kind, PieceKind::Mention(_)) && p.start < e && s < p.end);
    }
    (pieces, entity_piece)
}

/// A piece placed on a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    pub piece: usize,
    pub x: f64,
    pub width: f64,
}

/// One line of the annotated text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Line {
    pub items: Vec<Placed>,
}

/// Breaks pieces into lines no wider than `max_width` where possible: only at spaces and
/// line feeds, never inside a word or between a word and a mention it touches ("Boston,").
/// A run wider than the line gets a line of its own and overflows. Spaces at a break stay
/// at the end of the line they follow, so the lines' text put together is the whole text.
pub fn break_lines(pieces: &[Piece], widths: &[f64], max_width: f64) -> Vec<Line> {
    break_lines_at(pieces, widths, max_width, &[])
}

/// Like [`break_lines`], and a relation whose two ends would fall on different lines is kept
/// on one line when the text from its first end to its second fits on one: the line break
/// moves to just before the run of text holding its first end. `ends` are the piece indexes
/// of each relation's two mentions. A break is never moved where it would part a relation
/// that the line already holds whole, so each move joins one relation and parts none.
pub fn break_lines_keeping(
    pieces: &[Piece],
    widths: &[f64],
    max_width: f64,
    ends: &[(usize, usize)],
) -> Vec<Line> {
    let w = |i: usize| widths.get(i).copied().unwrap_or(0.0).max(0.0);
    let is_text = |i: usize| matches!(pieces[i].kind, PieceKind::Word | PieceKind::Mention(_));
    let run_start = |mut i: usize| {
        while i > 0 && is_text(i - 1) {
            i -= 1;
        }
        i
    };
    let run_end = |mut i: usize| {
        while i + 1 < pieces.len() && is_text(i + 1) {
            i += 1;
        }
        i
    };
    let ends: Vec<(usize, usize)> = ends
        .iter()
        .filter(|&&(a, b)| a < pieces.len() && b < pieces.len() && a != b)
        .map(|&(a, b)| (a.min(b), a.max(b)))
        .collect();
    let mut forced: Vec<usize> = Vec::new();
    // Each round forces one more break (at a piece not forced before), so this ends.
    for _ in 0..=ends.len() {
        let lines = break_lines_at(pieces, widths, max_width, &forced);
        let mut line_of = vec![0; pieces.len()];
        let mut first_text = vec![usize::MAX; lines.len()];
        for (l, line) in lines.iter().enumerate() {
            for p in &line.items {
                line_of[p.piece] = l;
                if is_text(p.piece) && first_text[l] == usize::MAX {
                    first_text[l] = p.piece;
                }
            }
        }
        let fits = |a: usize, b: usize| {
            let (s, e) = (run_start(a), run_end(b));
            (s..=e).map(w).sum::<f64>() <= max_width
        };
        let movable = |a: usize, b: usize| {
            let s = run_start(a);
            let l = line_of[a];
            line_of[b] != l
                && first_text[l] != s
                && !forced.contains(&s)
                && !(s..b).any(|k| pieces[k].kind == PieceKind::Newline)
                && fits(a, b)
                // Breaking before `s` must not part a relation the line holds whole.
                && !ends
                    .iter()
                    .any(|&(c, d)| line_of[c] == l && line_of[d] == l && c < s && s <= d)
        };
        let next = ends
            .iter()
            .filter(|&&(a, b)| movable(a, b))
            .map(|&(a, _)| run_start(a))
            .min();
        match next {
            Some(s) => forced.push(s),
            None => return lines,
        }
    }
    break_lines_at(pieces, widths, max_width, &forced)
}

/// The line breaking itself; a run of text starting at a piece in `forced` starts a line.
fn break_lines_at(pieces: &[Piece], widths: &[f64], max_width: f64, forced: &[usize]) -> Vec<Line> {
    let w = |i: usize| widths.get(i).copied().unwrap_or(0.0).max(0.0);
    let mut lines = vec![Line::default()];
    let mut x = 0.0;
    let mut i = 0;
    while i < pieces.len() {
        match pieces[i].kind {
            PieceKind::Newline => {
                lines.push(Line::default());
                x = 0.0;
                i += 1;
            }
            PieceKind::Space => {
                let line = lines.last_mut().expect("lines is never empty");
                line.items.push(Placed {
                    piece: i,
                    x,
                    width: w(i),
                });
                x += w(i);
                i += 1;
            }
            PieceKind::Word | PieceKind::Mention(_) => {
                let mut j = i;
                let mut run = 0.0;
                while j < pieces.len()
                    && matches!(pieces[j].kind, PieceKind::Word | PieceKind::Mention(_))
                {
                    run += w(j);
                    j += 1;
                }
                let line_has_text = lines.last().is_some_and(|l| {
                    l.items
                        .iter()
                        .any(|p| pieces[p.piece].kind != PieceKind::Space)
                });
                if line_has_text && (x + run > max_width || forced.contains(&i)) {
                    lines.push(Line::default());
                    x = 0.0;
                }
                let line = lines.last_mut().expect("lines is never empty");
                for k in i..j {
                    line.items.push(Placed {
                        piece: k,
                        x,
                        width: w(k),
                    });
                    x += w(k);
                }
                i = j;
            }
        }
    }
    lines
}

/// A relation to draw: its ends (entity indexes) and the width of its label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArcSpec {
    pub head: usize,
    pub tail: usize,
    pub label_width: f64,
}

/// One drawn part of a relation arc on one line. A relation whose ends are on one line has
/// one part; otherwise two: one leaving its first end towards the edge of that line, one
/// coming from the edge of the later line into the other end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArcPart {
    pub relation: usize,
    pub line: usize,
    /// x of the head side (an edge of the line when the head is on another line).
    pub from_x: f64,
    /// x of the tail side (an edge of the line when the tail is on another line).
    pub to_x: f64,
    /// The part that reaches the tail: it carries the arrow head and the relation's
    /// data attributes.
    pub main: bool,
    /// Whether `from_x` / `to_x` are line edges rather than mentions.
    pub open_from: bool,
    pub open_to: bool,
    pub level: usize,
}

/// Arcs of every line and the number of arc levels each line needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArcLayout {
    pub parts: Vec<ArcPart>,
    pub levels: Vec<usize>,
}

/// Lays out relation arcs over broken lines. `entity_piece` maps entities to the piece
/// showing them (from [`split_pieces`]); relations whose ends are not shown are skipped.
/// Several arcs meeting at one mention are spread over the middle half of its width.
pub fn layout_arcs(
    lines: &[Line],
    entity_piece: &[Option<usize>],
    relations: &[ArcSpec],
    line_width: f64,
    gap: f64,
) -> ArcLayout {
    // Where each piece was placed: (line, x, width).
    let mut piece_at = std::collections::HashMap::new();
    for (l, line) in lines.iter().enumerate() {
        for p in &line.items {
            piece_at.insert(p.piece, (l, p.x, p.width));
        }
    }
    let place = |entity: usize| {
        entity_piece
            .get(entity)
            .copied()
            .flatten()
            .and_then(|p| piece_at.get(&p).copied().map(|at| (p, at)))
    };

    // End points per piece, to spread them: (relation, is_head, x of the other end seen from
    // this line, used only to order them).
    let mut ends: std::collections::HashMap<usize, Vec<(usize, bool, f64)>> = Default::default();
    let mut drawn = Vec::new();
    for (r, rel) in relations.iter().enumerate() {
        let (Some((hp, (hl, hx, hw))), Some((tp, (tl, tx, tw)))) =
            (place(rel.head), place(rel.tail))
        else {
            continue;
        };
        let toward = |from_line: usize, to_line: usize, other_x: f64| {
            if from_line == to_line {
                other_x
            } else if to_line > from_line {
                line_width
            } else {
                0.0
            }
        };
        ends.entry(hp)
            .or_default()
            .push((r, true, toward(hl, tl, tx + tw / 2.0)));
        ends.entry(tp)
            .or_default()
            .push((r, false, toward(tl, hl, hx + hw / 2.0)));
        drawn.push((r, hl, tl));
    }
    let mut end_x: std::collections::HashMap<(usize, bool), f64> = Default::default();
    for (piece, list) in ends.iter_mut() {
        let Some(&(_, x, w)) = piece_at.get(piece) else {
            continue;
        };
        list.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
        let m = list.len() as f64;
        for (k, &(r, is_head, _)) in list.iter().enumerate() {
            let at = if list.len() == 1 {
                x + w / 2.0
            } else {
                x + w * 0.25 + w * 0.5 * (k as f64 + 0.5) / m
            };
            end_x.insert((r, is_head), at);
        }
    }

    let mut parts = Vec::new();
    for (r, hl, tl) in drawn {
        let hx = end_x.get(&(r, true)).copied().unwrap_or(0.0);
        let tx = end_x.get(&(r, false)).copied().unwrap_or(0.0);
        let part = |line, from_x, to_x, main, open_from, open_to| ArcPart {
            relation: r,
            line,
            from_x,
            to_x,
            main,
            open_from,
            open_to,
            level: 0,
        };
        if hl == tl {
            parts.push(part(hl, hx, tx, true, false, false));
        } else {
            let (edge_from_head, edge_into_tail) = if tl > hl {
                (line_width, 0.0)
            } else {
                (0.0, line_width)
            };
            parts.push(part(hl, hx, edge_from_head, false, false, true));
            parts.push(part(tl, edge_into_tail, tx, true, true, false));
        }
    }

    let mut levels = vec![0; lines.len()];
    for (l, count) in levels.iter_mut().enumerate() {
        let on_line: Vec<usize> = (0..parts.len()).filter(|&k| parts[k].line == l).collect();
        let extents: Vec<Extent> = on_line
            .iter()
            .map(|&k| {
                let p = &parts[k];
                Extent::of_arc(p.from_x, p.to_x, relations[p.relation].label_width)
            })
            .collect();
        let assigned = assign_levels(&extents, gap);
        for (&k, &lv) in on_line.iter().zip(&assigned) {
            parts[k].level = lv;
        }
        *count = level_count(&assigned);
    }
    ArcLayout { parts, levels }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(p: &[Piece]) -> Vec<PieceKind> {
        p.iter().map(|p| p.kind).collect()
    }

    #[test]
    fn pieces_cover_the_text() {
        let text = "Maria Gonzalez visited Boston, twice.\nThen  Rome";
        let (p, map) = split_pieces(text, &[(0, 14), (23, 29), (44, 48)]);
        let total: usize = p.iter().map(|p| p.end - p.start).sum();
        assert_eq!(total, text.chars().count());
        for w in p.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
        use PieceKind::*;
        assert_eq!(
            kinds(&p),
            vec![
                Mention(0),
                Space,
                Word,
                Space,
                Mention(1),
                Word,
                Space,
                Word,
                Newline,
                Word,
                Space,
                Mention(2)
            ]
        );
        assert_eq!(map, vec![Some(0), Some(4), Some(11)]);
    }

    #[test]
    fn offsets_are_chars_not_bytes() {
        let text = "Zoë met José in Köln.";
        let (p, map) = split_pieces(text, &[(0, 3), (8, 12), (16, 20)]);
        let chars: Vec<char> = text.chars().collect();
        let show = |i: usize| chars[p[i].start..p[i].end].iter().collect::<String>();
        assert_eq!(show(map[0].unwrap_or(usize::MAX)), "Zoë");
        assert_eq!(show(map[1].unwrap_or(usize::MAX)), "José");
        assert_eq!(show(map[2].unwrap_or(usize::MAX)), "Köln");
    }

    #[test]
    fn overlapping_and_bad_spans() {
        // (2, 9) overlaps the kept (0, 5); (7, 7) is empty; (30, 40) lies past the end.
        let (p, map) = split_pieces("abcde fghij", &[(0, 5), (2, 9), (7, 7), (30, 40)]);
        assert_eq!(map[0], map[1]);
        assert_eq!(map[2], None);
        assert_eq!(map[3], None);
        assert_eq!(
            p.iter()
                .filter(|p| matches!(p.kind, PieceKind::Mention(_)))
                .count(),
            1
        );
    }

    #[test]
    fn lines_break_at_spaces_only() {
        let text = "aaaa bbbb, cccc dddd";
        let (p, _) = split_pieces(text, &[(5, 9)]);
        // Word / mention widths 40, "," 10, spaces 5.
        let widths: Vec<f64> = p
            .iter()
            .map(|p| match p.kind {
                PieceKind::Space => 5.0,
                _ if p.end - p.start == 1 => 10.0,
                _ => 40.0,
            })
            .collect();
        let lines = break_lines(&p, &widths, 100.0);
        let text_of = |l: &Line| {
            let chars: Vec<char> = text.chars().collect();
            l.items
                .iter()
                .map(|it| {
                    chars[p[it.piece].start..p[it.piece].end]
                        .iter()
                        .collect::<String>()
                })
                .collect::<String>()
        };
        // "aaaa bbbb," is 95 wide; " cccc" would reach 140.
        assert_eq!(lines.len(), 2);
        assert_eq!(text_of(&lines[0]), "aaaa bbbb, ");
        assert_eq!(text_of(&lines[1]), "cccc dddd");
        assert_eq!(lines[1].items[0].x, 0.0);
        // The mention and its comma stay together at x 45 and 85.
        assert_eq!(lines[0].items[2].x, 45.0);
        assert_eq!(lines[0].items[3].x, 85.0);
    }

    #[test]
    fn line_feeds_force_breaks_and_empty_lines_stay() {
        let (p, _) = split_pieces("a\n\nb", &[]);
        let widths = vec![10.0; p.len()];
        let lines = break_lines(&p, &widths, 1000.0);
        assert_eq!(lines.len(), 3);
        assert!(lines[1].items.is_empty());
    }

    #[test]
    fn an_overlong_word_gets_its_own_line() {
        let (p, _) = split_pieces("a bbbbbbbbbb c", &[]);
        let widths: Vec<f64> = p.iter().map(|p| (p.end - p.start) as f64 * 10.0).collect();
        let lines = break_lines(&p, &widths, 50.0);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].items[0].width, 100.0);
    }

    fn one_line(widths: &[f64]) -> Vec<Line> {
        let mut x = 0.0;
        vec![Line {
            items: widths
                .iter()
                .enumerate()
                .map(|(i, &w)| {
                    let p = Placed {
                        piece: i,
                        x,
                        width: w,
                    };
                    x += w;
                    p
                })
                .collect(),
        }]
    }

    /// "aaaa bb cc dd": a word, then mentions 0 ("bb") and 1 ("dd") around a word, 10 per char.
    fn four_words() -> (Vec<Piece>, Vec<f64>) {
        let kinds = [
            PieceKind::Word,
            PieceKind::Space,
            PieceKind::Mention(0),
            PieceKind::Space,
            PieceKind::Word,
            PieceKind::Space,
            PieceKind::Mention(1),
        ];
        let lens = [4, 1, 2, 1, 2, 1, 2];
        let mut start = 0;
        let pieces = kinds
            .iter()
            .zip(lens)
            .map(|(&kind, n)| {
                let p = Piece {
                    start,
                    end: start + n,
                    kind,
                };
                start += n;
                p
            })
            .collect();
        (pieces, lens.iter().map(|&n| n as f64 * 10.0).collect())
    }

    fn first_pieces(lines: &[Line]) -> Vec<usize> {
        lines
            .iter()
            .filter_map(|l| l.items.first().map(|p| p.piece))
            .collect()
    }

    #[test]
    fn a_relation_that_fits_on_a_line_is_not_parted() {
        let (p, w) = four_words();
        // Greedy: "aaaa bb " | "cc dd" parts bb from dd.
        assert_eq!(first_pieces(&break_lines(&p, &w, 80.0)), vec![0, 4]);
        // Kept: "aaaa " | "bb cc dd" (80 wide: fits).
        let kept = break_lines_keeping(&p, &w, 80.0, &[(6, 2)]);
        assert_eq!(first_pieces(&kept), vec![0, 2]);
        let text: Vec<usize> = kept
            .iter()
            .flat_map(|l| l.items.iter().map(|i| i.piece))
            .collect();
        assert_eq!(
            text,
            (0..7).collect::<Vec<_>>(),
            "every piece once, in order"
        );
    }

    #[test]
    fn a_break_moves_only_where_it_parts_nothing_and_the_span_fits() {
        let (p, w) = four_words();
        // "aaaa"–"bb" is whole on the first line: moving the break would part it.
        let kept = break_lines_keeping(&p, &w, 80.0, &[(2, 6), (0, 2)]);
        assert_eq!(first_pieces(&kept), vec![0, 4]);
        // "bb cc dd" is 80 wide: at 70 it cannot be kept on one line.
        assert_eq!(
            break_lines_keeping(&p, &w, 70.0, &[(2, 6)]),
            break_lines(&p, &w, 70.0)
        );
        // Ends out of range are ignored.
        assert_eq!(
            break_lines_keeping(&p, &w, 80.0, &[(2, 60)]),
            break_lines(&p, &w, 80.0)
        );
    }

    #[test]
    fn arcs_on_one_line_point_from_head_to_tail() {
        // Pieces 0, 2, 4 are mentions of entities 0, 1, 2.
        let lines = one_line(&[40.0, 10.0, 40.0, 10.0, 40.0]);
        let map = [Some(0), Some(2), Some(4)];
        let rels = [
            ArcSpec {
                head: 2,
                tail: 0,
                label_width: 20.0,
            },
            ArcSpec {
                head: 1,
                tail: 2,
                label_width: 20.0,
            },
        ];
        let lay = layout_arcs(&lines, &map, &rels, 500.0, 2.0);
        assert_eq!(lay.parts.len(), 2);
        let p0 = lay.parts.iter().find(|p| p.relation == 0).copied();
        let p1 = lay.parts.iter().find(|p| p.relation == 1).copied();
        let (Some(p0), Some(p1)) = (p0, p1) else {
            panic!("both relations are drawn")
        };
        assert!(p0.main && !p0.open_from && !p0.open_to);
        // Entity 2 has two ends: spread over the middle of its 40 px (x 100..140).
        assert!(p0.from_x > 100.0 && p0.from_x < 140.0);
        assert!(p1.to_x > 100.0 && p1.to_x < 140.0);
        assert_ne!(p0.from_x, p1.to_x);
        assert_eq!(p0.to_x, 20.0);
        // The short arc (1 -> 2) is nested in the long one (2 -> 0): under it.
        assert!(p1.level < p0.level);
        assert_eq!(lay.levels, vec![2]);
    }

    #[test]
    fn a_relation_across_lines_has_two_open_parts() {
        let lines = vec![
            Line {
                items: vec![Placed {
                    piece: 0,
                    x: 10.0,
                    width: 40.0,
                }],
            },
            Line {
                items: vec![Placed {
                    piece: 1,
                    x: 60.0,
                    width: 40.0,
                }],
            },
        ];
        let map = [Some(0), Some(1)];
        // Head on the second line, tail on the first.
        let rels = [ArcSpec {
            head: 1,
            tail: 0,
            label_width: 30.0,
        }];
        let lay = layout_arcs(&lines, &map, &rels, 300.0, 2.0);
        assert_eq!(lay.parts.len(), 2);
        let first = lay.parts.iter().find(|p| p.line == 0).copied();
        let second = lay.parts.iter().find(|p| p.line == 1).copied();
        let (Some(first), Some(second)) = (first, second) else {
            panic!("one part per line")
        };
        // The tail's line carries the arrow, entering from the right edge.
        assert!(first.main && first.open_from && !first.open_to);
        assert_eq!((first.from_x, first.to_x), (300.0, 30.0));
        // The head's line leaves towards the left edge.
        assert!(!second.main && second.open_to);
        assert_eq!((second.from_x, second.to_x), (80.0, 0.0));
        assert_eq!(lay.levels, vec![1, 1]);
    }

    #[test]
    fn relations_to_unknown_entities_are_skipped() {
        let lines = one_line(&[40.0]);
        let rels = [ArcSpec {
            head: 0,
            tail: 7,
            label_width: 10.0,
        }];
        let lay = layout_arcs(&lines, &[Some(0)], &rels, 100.0, 2.0);
        assert!(lay.parts.is_empty());
        assert_eq!(lay.levels, vec![0]);
    }
}
