//! Prints `size_of` the link and its parts (docs/PERFORMANCE.md).
fn main() {
    for (name, size) in ppp_core::size_report() {
        println!("{name:32} {size:4} bytes");
    }
}
