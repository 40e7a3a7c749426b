//! A TCP proxy a test puts between two real processes (the gateway and
//! DynamoDB Local, or the gateway and the processor) to break the line at
//! the moment it chooses: the failures a kill or a pause cannot produce,
//! such as a write that fails after the processor has decided.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{
        TcpListener, TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
    sync::watch,
};

/// What the proxy does with the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// Passes everything both ways.
    Open,
    /// Closes every open connection and each new one at once: the far side
    /// looks unreachable.
    Cut,
    /// Passes requests on but drops every answer: the far side acts on what
    /// it is sent, and the caller never hears back (it times out).
    AnswersLost,
}

/// A proxy on a free loopback port to `target`; it stops when dropped.
pub struct Proxy {
    /// `http://127.0.0.1:<port>`, to use in place of the target's URL.
    pub url: String,
    line: watch::Sender<Line>,
    /// Bytes passed on towards the target so far.
    sent: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy to `target` (`host:port`), open.
    pub async fn start(target: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        let (line, watching) = watch::channel(Line::Open);
        let sent = Arc::new(AtomicU64::new(0));
        let target = target.to_owned();
        let counter = sent.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if *watching.borrow() == Line::Cut {
                    continue; // dropped: closed at once
                }
                tokio::spawn(relay(
                    client,
                    target.clone(),
                    watching.clone(),
                    counter.clone(),
                ));
            }
        });
        Proxy {
            url,
            line,
            sent,
            task,
        }
    }

    /// A proxy to the target of `url` (`http://host:port`).
    pub async fn to_url(url: &str) -> Proxy {
        Self::start(url.trim_start_matches("http://").trim_end_matches('/')).await
    }

    pub fn set(&self, line: Line) {
        self.line.send_replace(line);
    }

    /// Bytes passed on towards the target so far: whether a request was
    /// sent through, for a test that must wait until it was.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
        self.line.send_replace(Line::Cut);
    }
}

async fn relay(
    client: TcpStream,
    target: String,
    line: watch::Receiver<Line>,
    sent: Arc<AtomicU64>,
) {
    let Ok(server) = TcpStream::connect(&target).await else {
        return;
    };
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::join!(
        pump(client_read, server_write, line.clone(), Some(sent)),
        pump(server_read, client_write, line, None),
    );
}

/// Copies `from` to `to` until either side closes or the line is cut.
/// Requests (counted in `sent`) always pass; answers (`sent` is `None`) are
/// dropped while the line loses them.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut line: watch::Receiver<Line>,
    sent: Option<Arc<AtomicU64>>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            changed = line.changed() => {
                if changed.is_err() || *line.borrow() == Line::Cut {
                    return;
                }
            }
            read = from.read(&mut buffer) => {
                let Ok(read @ 1..) = read else { return };
                match &sent {
                    None if *line.borrow() == Line::AnswersLost => continue,
                    None => {}
                    Some(sent) => {
                        sent.fetch_add(read as u64, Ordering::SeqCst);
                    }
                }
                if to.write_all(&buffer[..read]).await.is_err() {
                    return;
                }
            }
        }
    }
}
