//! Linked reading: which mentions, arcs and table rows belong to the one the reader points at
//! (hover, keyboard focus or a tap), so that the page can highlight them together.

/// What the reader points at: an entity (a mention or an entity row) or a relation (an arc
/// or a triples row), by its index in the extraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Entity(usize),
    Relation(usize),
}

/// How an element stands to the current focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Nothing is focused: every element is drawn as usual.
    Idle,
    /// The element is the focus or linked to it.
    On,
    /// Something else is focused.
    Off,
}

impl Link {
    /// The class the element gets (empty when nothing is focused).
    pub fn class(self) -> &'static str {
        match self {
            Link::Idle => "",
            Link::On => "linked",
            Link::Off => "unlinked",
        }
    }
}

/// The entities and relations linked to a focus.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Linked {
    active: bool,
    entities: Vec<bool>,
    relations: Vec<bool>,
}

impl Linked {
    /// For `focus` among `entities` entities and the relations `(head, tail)`: an entity links
    /// its relations and their other ends; a relation links its two ends. A focus out of
    /// range (a result replaced meanwhile) links nothing and dims nothing.
    pub fn of(focus: Option<Focus>, entities: usize, relations: &[(usize, usize)]) -> Self {
        let mut l = Linked {
            active: false,
            entities: vec![false; entities],
            relations: vec![false; relations.len()],
        };
        let mark = |l: &mut Linked, e: usize| {
            if let Some(x) = l.entities.get_mut(e) {
                *x = true;
            }
        };
        match focus {
            Some(Focus::Entity(e)) if e < entities => {
                l.active = true;
                mark(&mut l, e);
                for (r, &(h, t)) in relations.iter().enumerate() {
                    if h == e || t == e {
                        l.relations[r] = true;
                        mark(&mut l, h);
                        mark(&mut l, t);
                    }
                }
            }
            Some(Focus::Relation(r)) if r < relations.len() => {
                l.active = true;
                l.relations[r] = true;
                let (h, t) = relations[r];
                mark(&mut l, h);
                mark(&mut l, t);
            }
            _ => {}
        }
        l
    }

    pub fn entity(&self, e: usize) -> Link {
        self.link(self.entities.get(e).copied())
    }

    pub fn relation(&self, r: usize) -> Link {
        self.link(self.relations.get(r).copied())
    }

    fn link(&self, on: Option<bool>) -> Link {
        match (self.active, on) {
            (false, _) => Link::Idle,
            (true, Some(true)) => Link::On,
            (true, _) => Link::Off,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Entities 0..4; relations 0: 0→1, 1: 2→1, 2: 3→0. Entity 4 is in no relation.
    const RELS: [(usize, usize); 3] = [(0, 1), (2, 1), (3, 0)];

    #[test]
    fn an_entity_links_its_relations_and_their_other_ends() {
        let l = Linked::of(Some(Focus::Entity(1)), 5, &RELS);
        let ents: Vec<Link> = (0..5).map(|e| l.entity(e)).collect();
        assert_eq!(ents, [Link::On, Link::On, Link::On, Link::Off, Link::Off]);
        let rels: Vec<Link> = (0..3).map(|r| l.relation(r)).collect();
        assert_eq!(rels, [Link::On, Link::On, Link::Off]);
        let lone = Linked::of(Some(Focus::Entity(4)), 5, &RELS);
        assert_eq!(lone.entity(4), Link::On);
        assert!((0..3).all(|r| lone.relation(r) == Link::Off));
    }

    #[test]
    fn a_relation_links_its_two_ends_only() {
        let l = Linked::of(Some(Focus::Relation(2)), 5, &RELS);
        let ents: Vec<Link> = (0..5).map(|e| l.entity(e)).collect();
        assert_eq!(ents, [Link::On, Link::Off, Link::Off, Link::On, Link::Off]);
        assert_eq!(l.relation(2), Link::On);
        assert_eq!(l.relation(0), Link::Off);
    }

    #[test]
    fn no_focus_or_a_stale_one_dims_nothing() {
        for focus in [None, Some(Focus::Entity(9)), Some(Focus::Relation(7))] {
            let l = Linked::of(focus, 5, &RELS);
            assert!((0..5).all(|e| l.entity(e) == Link::Idle));
            assert!((0..3).all(|r| l.relation(r) == Link::Idle));
            assert_eq!(l.entity(99).class(), "");
        }
        // A relation whose end is out of range still links what exists.
        let l = Linked::of(Some(Focus::Relation(0)), 1, &[(0, 5)]);
        assert_eq!(l.entity(0), Link::On);
    }
}
