fn main() {
    println!("orders");
}
