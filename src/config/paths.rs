//! Where the configuration file is: `--config`, then `CLAUDE_LB_CONFIG`, then
//! `./providers.yaml`, then `providers.yaml` in the user's config directory.
//!
//! [`resolve`] is pure apart from checking whether files exist: the environment, working
//! directory and user config directory come in as arguments, so tests never depend on the
//! machine they run on. [`resolve_for_process`] supplies the real ones for the binary.

use std::path::{Path, PathBuf};

use super::ConfigError;
use crate::env::CLAUDE_LB_CONFIG;

/// The file name looked for in the working directory and the user config directory.
pub const FILE_NAME: &str = "providers.yaml";

/// The configuration file to read.
///
/// An explicit path or `CLAUDE_LB_CONFIG` is returned as given, whether or not it exists (loading
/// it then says why it cannot be read). Otherwise the first of `cwd/providers.yaml` and
/// `user_config_dir/providers.yaml` that exists; [`ConfigError::NotFound`] lists both when
/// neither does.
pub fn resolve(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    cwd: &Path,
    user_config_dir: Option<&Path>,
) -> Result<PathBuf, ConfigError> {
    if let Some(path) = explicit {
        tracing::info!("config file `{}` (from --config)", path.display());
        return Ok(path.to_path_buf());
    }
    if let Some(path) = from_env(env) {
        tracing::info!("config file `{}` (from {CLAUDE_LB_CONFIG})", path.display());
        return Ok(path);
    }
    let mut tried = vec![cwd.join(FILE_NAME)];
    tried.extend(user_config_dir.map(|dir| dir.join(FILE_NAME)));
    let Some(found) = tried.iter().find(|p| p.exists()).cloned() else {
        return Err(ConfigError::NotFound { tried });
    };
    tracing::info!("config file `{}` (found)", found.display());
    Ok(found)
}

/// Where `config init` writes a new file: `--config`, else `CLAUDE_LB_CONFIG`, else
/// `providers.yaml` in the user config directory (`None` when there is no such directory).
pub fn init_target(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    user_config_dir: Option<&Path>,
) -> Option<PathBuf> {
    named(explicit, env).or_else(|| user_config_dir.map(|dir| dir.join(FILE_NAME)))
}

/// The path given with `--config` or `CLAUDE_LB_CONFIG`.
fn named(explicit: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    explicit.map(Path::to_path_buf).or_else(|| from_env(env))
}

/// The path in `CLAUDE_LB_CONFIG` (an empty variable counts as unset).
fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    env(CLAUDE_LB_CONFIG)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The user's claude-lb config directory (`~/.config/claude-lb` on Linux), from `directories`.
pub fn user_config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "claude-lb").map(|d| d.config_dir().to_path_buf())
}

/// [`resolve`] with the real process environment, working directory and user config directory.
pub fn resolve_for_process(explicit: Option<&Path>) -> Result<PathBuf, ConfigError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    resolve(
        explicit,
        &crate::env::process,
        &cwd,
        user_config_dir().as_deref(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn precedence() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path().join("cwd");
        let user = dir.path().join("user");
        std::fs::create_dir_all(&cwd).unwrap();
        std::fs::create_dir_all(&user).unwrap();
        let env = |name: &str| (name == CLAUDE_LB_CONFIG).then(|| "/from/env.yaml".to_owned());

        let explicit = Path::new("/explicit.yaml");
        assert_eq!(
            resolve(Some(explicit), &env, &cwd, Some(&user)).unwrap(),
            explicit
        );
        assert_eq!(
            resolve(None, &env, &cwd, Some(&user)).unwrap(),
            Path::new("/from/env.yaml")
        );

        let err = resolve(None, &no_env, &cwd, Some(&user)).unwrap_err();
        assert!(matches!(&err, ConfigError::NotFound { tried } if tried.len() == 2));
        let message = err.to_string();
        assert!(message.contains("claude-lb providers add"), "{message}");
        assert!(message.contains("claude-lb config init"), "{message}");
        assert!(
            message.contains(&cwd.join(FILE_NAME).display().to_string()),
            "{message}"
        );

        std::fs::write(user.join(FILE_NAME), "").unwrap();
        assert_eq!(
            resolve(None, &no_env, &cwd, Some(&user)).unwrap(),
            user.join(FILE_NAME)
        );
        std::fs::write(cwd.join(FILE_NAME), "").unwrap();
        assert_eq!(
            resolve(None, &no_env, &cwd, Some(&user)).unwrap(),
            cwd.join(FILE_NAME)
        );
    }

    #[test]
    fn init_goes_to_named_or_user_dir() {
        let user = Path::new("/home/u/.config/claude-lb");
        assert_eq!(
            init_target(None, &no_env, Some(user)),
            Some(user.join(FILE_NAME))
        );
        assert_eq!(
            init_target(Some(Path::new("x.yaml")), &no_env, Some(user)),
            Some(PathBuf::from("x.yaml"))
        );
        assert_eq!(init_target(None, &no_env, None), None);
    }
}
