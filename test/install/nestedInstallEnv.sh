#!/usr/bin/env bash
# Sourced by every script that installs or builds into the cache (test/e2e/setup.sh, test/engine/buildLlamaServer.sh).
#
# Why: `npm start`, `npm test:e2e` and `npm run test:engine` run those scripts as children of an outer `npm run`, which
# exports its own state: npm_config_user_agent (naming the OUTER Node, so code-server's postinstall refused Node 24 with
# "code-server currently requires node v24 ... you are on node v20"), npm_config_nodedir (Node 20's headers for node-gyp),
# npm_config_loglevel, npm_config_allow_scripts, npm_lifecycle_*, npm_package_*, npm_execpath, NODE, INIT_CWD, and PATH
# entries for the project's node_modules/.bin and npm's own node-gyp shim. A nested `npm install` reads all of them as if
# they were its own. After `clean_nested_install_env` the nested install sees what it would see started from a shell.
#
# Kept: the npm settings a person sets in their shell to reach the registry at all (registry, proxies, CA file,
# strict-ssl); an outer `npm run` passes those through unchanged, and without them nothing installs behind a proxy.

nested_install_kept_npm_settings=" npm_config_registry npm_config_proxy npm_config_https_proxy npm_config_http_proxy npm_config_noproxy npm_config_cafile npm_config_strict_ssl "

clean_nested_install_env() {
  local name lower
  # compgen -e lists every exported variable name.
  while IFS= read -r name; do
    lower="${name,,}"
    case "$lower" in
      npm_config_*)
        # The empty noproxy an outer npm exports is its own default, not a person's setting.
        if [[ "$nested_install_kept_npm_settings" == *" $lower "* && -n "${!name}" ]]; then continue; fi
        unset "$name" ;;
      npm_*) unset "$name" ;;
    esac
  done < <(compgen -e)
  unset INIT_CWD NODE COLOR
  # PATH: drop the node_modules/.bin folders of the outer project (and its parents) and npm's node-gyp shim.
  local kept=() entry
  IFS=':' read -r -a path_entries <<<"${PATH:-}"
  for entry in "${path_entries[@]}"; do
    case "$entry" in
      '' | */node_modules/.bin | */node-gyp-bin) ;;
      *) kept+=("$entry") ;;
    esac
  done
  PATH="$(IFS=':'; echo "${kept[*]}")"
  export PATH
}
