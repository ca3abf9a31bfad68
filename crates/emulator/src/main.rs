//! `webpubsub-emulator [--host H] [--port P] [--access-key K] [--settings FILE] [--event-handler SPEC]…`:
//! runs the emulator until Ctrl-C.
//!
//! Prints the connection string and the client endpoint once bound. The access key appears
//! only inside the connection string line.

use std::process::ExitCode;

use webpubsub_emulator::{start, EmulatorConfig};

const USAGE: &str = "Usage: webpubsub-emulator [OPTIONS]

  --host HOST             address to bind (default 127.0.0.1; `localhost` also binds [::1])
  --port PORT             port to bind (default 8080; 0 picks a free port)
  --access-key KEY        key that signs tokens and ce-signature (default: the official emulator's public key)
  --settings FILE         JSON event-handler settings:
                            {\"hubs\": {\"chat\": {\"eventHandlers\": [{\"urlTemplate\": \"http://localhost:3000/api/webpubsub/hubs/{hub}/\",
                              \"userEventPattern\": \"*\", \"systemEvents\": [\"connect\", \"connected\", \"disconnected\"]}]}}}
                          (the official emulator's {\"WebPubSub\": {\"Hubs\": …}} with PascalCase keys also works)
  --event-handler SPEC    one event handler, repeatable, after the settings file's handlers:
                            hub=NAME;url=TEMPLATE[;events=connect,connected,disconnected,joined,left][;user=PATTERN]
                          TEMPLATE may use {hub} and {event} (not in the host) and no ';'; PATTERN is *, a name or a comma
                          list (case-insensitive); the first handler of a hub that matches an event receives it.
                          Example: 'hub=chat;url=http://localhost:3000/api/webpubsub/hubs/{hub}/;events=connect,connected,disconnected;user=*'";

/// What the command line asks for.
enum Command {
  Run(EmulatorConfig),
  Help,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
  let mut config = EmulatorConfig::default();
  let mut settings_files = Vec::new();
  let mut specs = Vec::new();
  while let Some(arg) = args.next() {
    let (name, inline) = match arg.split_once('=') {
      Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
      None => (arg, None),
    };
    if name == "--help" || name == "-h" {
      return Ok(Command::Help);
    }
    let mut value = || {
      inline
        .clone()
        .or_else(|| args.next())
        .ok_or_else(|| format!("{name} needs a value"))
    };
    match name.as_str() {
      "--host" => config.host = value()?,
      "--port" => {
        let text = value()?;
        config.port = text
          .parse()
          .map_err(|_| format!("--port must be a number from 0 to 65535, got '{text}'"))?;
      }
      "--access-key" => config.access_key = value()?,
      "--settings" => {
        let path = value()?;
        let json = std::fs::read_to_string(&path)
          .map_err(|e| format!("cannot read the settings file '{path}': {e}"))?;
        settings_files.push(json);
      }
      "--event-handler" => specs.push(value()?),
      other => return Err(format!("unknown argument '{other}'")),
    }
  }
  for json in &settings_files {
    config
      .event_handlers
      .add_json(json)
      .map_err(|e| e.to_string())?;
  }
  for spec in &specs {
    config
      .event_handlers
      .add_spec(spec)
      .map_err(|e| e.to_string())?;
  }
  Ok(Command::Run(config))
}

#[tokio::main]
async fn main() -> ExitCode {
  let config = match parse_args(std::env::args().skip(1)) {
    Ok(Command::Run(config)) => config,
    Ok(Command::Help) => {
      println!("{USAGE}");
      return ExitCode::SUCCESS;
    }
    Err(message) => {
      eprintln!("error: {message}\n\n{USAGE}");
      return ExitCode::from(2);
    }
  };
  let emulator = match start(config).await {
    Ok(emulator) => emulator,
    Err(error) => {
      eprintln!("error: cannot start the emulator: {error}");
      return ExitCode::FAILURE;
    }
  };
  let rule = "=".repeat(72);
  println!("{rule}");
  println!("Azure Web PubSub Emulator is ready.");
  println!("Listening on:");
  for addr in emulator.local_addrs() {
    println!("  http://{addr}");
  }
  println!("Connection string:\n  {}", emulator.connection_string());
  println!("Client endpoint:\n  {}", emulator.client_endpoint());
  println!("Health:\n  {}/api/health", emulator.endpoint());
  println!(
    "Live trace (open in a browser):\n  {}",
    emulator.live_trace_url()
  );
  println!("Press Ctrl+C to stop the emulator.");
  println!("{rule}");
  if let Err(error) = tokio::signal::ctrl_c().await {
    eprintln!("error: cannot listen for Ctrl+C: {error}");
  }
  emulator.shutdown().await;
  ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
  use super::*;

  fn args(list: &[&str]) -> impl Iterator<Item = String> {
    list
      .iter()
      .map(|s| s.to_string())
      .collect::<Vec<_>>()
      .into_iter()
  }

  #[test]
  fn parses_flags_in_both_forms() {
    let Ok(Command::Run(config)) = parse_args(args(&["--host", "localhost", "--port=0"])) else {
      panic!("expected a run command");
    };
    assert_eq!(config.host, "localhost");
    assert_eq!(config.port, 0);
  }

  #[test]
  fn reports_bad_input() {
    assert!(parse_args(args(&["--port", "x"])).is_err());
    assert!(parse_args(args(&["--port"])).is_err());
    assert!(parse_args(args(&["--bogus"])).is_err());
    assert!(matches!(parse_args(args(&["--help"])), Ok(Command::Help)));
    assert!(parse_args(args(&["--event-handler", "hub=chat"])).is_err());
    assert!(parse_args(args(&["--settings", "/nonexistent/settings.json"])).is_err());
  }

  #[test]
  fn event_handlers_from_the_command_line() {
    let Ok(Command::Run(config)) = parse_args(args(&[
      "--event-handler",
      "hub=chat;url=http://localhost:3000/{event};events=connect;user=*",
    ])) else {
      panic!("expected a run command");
    };
    let handlers = config.event_handlers.hub("chat");
    assert_eq!(handlers.len(), 1);
    assert_eq!(
      handlers[0].url_template.expand("chat", "connect"),
      "http://localhost:3000/connect"
    );
  }
}
