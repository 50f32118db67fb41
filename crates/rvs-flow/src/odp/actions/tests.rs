//! Tests of the action text.

use super::*;

#[test]
fn placeholder_compiles() {
    assert_eq!(format!("{:?}", HashAlg::L4), "L4");
}
