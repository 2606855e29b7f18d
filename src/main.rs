#[tokio::main]
async fn main() -> anyhow::Result<()> {
    lotsen::cli::run(std::env::args().skip(1).collect()).await
}
