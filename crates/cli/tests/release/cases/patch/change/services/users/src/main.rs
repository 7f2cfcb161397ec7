fn main() {
    println!("users");
}
