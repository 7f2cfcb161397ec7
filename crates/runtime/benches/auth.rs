//! What auth costs: token verification cold (every signature checked) and cached,
//! per algorithm, and a request through an axum route with and without the auth
//! layer, measured in the same run (best of interleaved rounds).
//!
//! `cargo bench -p blueprint --features auth,server --bench auth`

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use blueprint::auth::{Claims, KeySet, RequireAuthLayer, Rule, SigningKey, Verifier, authenticate};
use tower::ServiceExt;
use uuid::Uuid;

fn key(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/auth/keys")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn expiry() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(now.as_millis()).expect("fits") + 3_600_000
}

fn tokens(signer: &SigningKey, n: u128) -> Vec<String> {
    (0..n)
        .map(|i| {
            let claims = Claims::new(Uuid::from_u128(i + 1), Uuid::from_u128(7), expiry());
            signer.sign(&claims).expect("signs")
        })
        .collect()
}

/// Time per call of `f`, best of `rounds` rounds of `n` calls.
fn best(rounds: usize, n: usize, mut f: impl FnMut(usize)) -> Duration {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for i in 0..n {
                f(i);
            }
            start.elapsed() / u32::try_from(n).expect("fits")
        })
        .min()
        .unwrap_or_default()
}

fn verification() {
    println!("token verification (per token)");
    println!("{:<8} {:>12} {:>12}", "alg", "cold", "cached");
    for (alg, private, public) in [
        ("EdDSA", "ed25519.key.pem", "ed25519.pub.pem"),
        ("ES256", "ec.key.pem", "ec.pub.pem"),
        ("RS256", "rsa.key.pem", "rsa.pub.pem"),
    ] {
        let signer = SigningKey::from_pem(&key(private)).expect("loads");
        let keys = KeySet::from_pem(&key(public)).expect("loads");
        let fresh = tokens(&signer, 200);
        // Cold: a cache big enough that nothing is evicted, every token new to it.
        let verifier = Verifier::new(keys.clone());
        let mut next = fresh.iter();
        let cold = best(1, fresh.len(), |_| {
            let token = next.next().expect("enough tokens");
            black_box(verifier.verify(token).expect("valid"));
        });
        let verifier = Verifier::new(keys);
        let token = &fresh[0];
        let cached = best(5, 100_000, |_| {
            black_box(verifier.verify(token).expect("valid"));
        });
        println!("{alg:<8} {cold:>12.2?} {cached:>12.2?}");
    }
}

async fn hello() -> &'static str {
    "hello"
}

/// What generated handlers do: authenticate first, then read the request.
async fn hello_checked(State(verifier): State<Arc<Verifier>>, request: Request) -> Response {
    match authenticate(request.headers(), Some(&verifier), &Rule::any()) {
        Ok(_claims) => "hello".into_response(),
        Err(e) => e.into_response(),
    }
}

async fn requests() {
    let signer = SigningKey::from_pem(&key("ed25519.key.pem")).expect("loads");
    let verifier = Arc::new(Verifier::new(
        KeySet::from_pem(&key("ed25519.pub.pem")).expect("loads"),
    ));
    let token = format!("Bearer {}", tokens(&signer, 1)[0]);
    let router = Router::new()
        .route("/open", get(hello))
        .route("/checked", get(hello_checked))
        .route(
            "/layered",
            get(hello).layer(RequireAuthLayer::new(
                Some(Arc::clone(&verifier)),
                Rule::any(),
            )),
        )
        .with_state(verifier);
    let call = |path: &'static str| {
        let router = router.clone();
        let token = token.clone();
        async move {
            let request = Request::get(path)
                .header("authorization", token)
                .body(Body::empty())
                .expect("request");
            let response = router.oneshot(request).await.expect("infallible");
            assert!(response.status().is_success());
        }
    };
    let n = 50_000;
    let mut best = [Duration::MAX; 3];
    let paths = ["/open", "/checked", "/layered"];
    // Interleaved rounds, best of each: the machine's noise hits all alike.
    for _ in 0..7 {
        for (path, best) in paths.iter().zip(best.iter_mut()) {
            let start = Instant::now();
            for _ in 0..n {
                call(path).await;
            }
            *best = (*best).min(start.elapsed() / n);
        }
    }
    let [open, checked, layered] = best;
    println!();
    println!("one request through the router (same Authorization header on all)");
    println!("no auth:                         {open:>10.2?}");
    println!(
        "auth in the handler (generated): {checked:>10.2?}  ratio {:.3}",
        ratio(open, checked)
    );
    println!(
        "auth as a tower layer:           {layered:>10.2?}  ratio {:.3}",
        ratio(open, layered)
    );
    println!("(ratio: throughput with auth / without, on this in-process path)");
}

fn ratio(base: Duration, with: Duration) -> f64 {
    base.as_secs_f64() / with.as_secs_f64()
}

fn main() {
    verification();
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(requests());
}
