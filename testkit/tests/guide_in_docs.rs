//! docs/testing.md shows `guide.rs` as it is: the example a framework
//! author reads is the test CI runs.

#[test]
fn docs_show_the_guide_test_as_it_is() {
    let docs = include_str!("../../docs/testing.md");
    let guide = include_str!("guide.rs");
    let block = format!("```rust,ignore\n{guide}```\n");
    assert!(
        docs.contains(&block),
        "docs/testing.md must show testkit/tests/guide.rs verbatim in a ```rust,ignore block"
    );
}
