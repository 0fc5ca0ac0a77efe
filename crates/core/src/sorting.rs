//! One stable sort shared by the short lists of the summaries and the UI.
//!
//! Every `sort_by` call site compiles its own copy of the standard library's sort (drift sort,
//! quicksort and small-sorts: 2 to 8 KB of wasm each). Ten of them were 70 KB of the module
//! (twiggy). Here the sort runs once, over indices with a `dyn` comparison, and the items are
//! put in that order after. The lists sorted this way hold at most one entry per subject, so
//! the indirection costs well under a millisecond. The hot sorts over records keep their own.

use std::cmp::Ordering;

/// Sorts `items` by `compare`, keeping equal items in their order (like `slice::sort_by`).
pub fn sort_by_shared<T>(items: &mut Vec<T>, compare: impl Fn(&T, &T) -> Ordering) {
    if items.len() < 2 {
        return;
    }
    let order = sorted_order(items.len(), &|a, b| compare(&items[a], &items[b]));
    let mut taken: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.into_iter().filter_map(|i| taken[i].take()));
}

/// The one instance of the standard sort: the positions `0..len` in `compare` order.
#[inline(never)]
fn sorted_order(len: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|a, b| compare(*a, *b));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_the_standard_stable_sort() {
        // Pairs sorted by their first half only: equal keys must keep their order.
        let mut seed = 7u64;
        let mut items: Vec<(u8, u32)> = (0..500)
            .map(|i| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                ((seed >> 59) as u8, i)
            })
            .collect();
        let mut expected = items.clone();
        expected.sort_by_key(|b| std::cmp::Reverse(b.0));
        sort_by_shared(&mut items, |a, b| b.0.cmp(&a.0));
        assert_eq!(items, expected);
        let mut words = vec!["b".to_string(), "a".into(), "c".into()];
        sort_by_shared(&mut words, |a, b| a.cmp(b));
        assert_eq!(words, ["a", "b", "c"]);
        let mut none: Vec<String> = Vec::new();
        sort_by_shared(&mut none, |a, b| a.cmp(b));
        assert!(none.is_empty());
    }
}
