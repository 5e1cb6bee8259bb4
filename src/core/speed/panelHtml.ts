/** What the speed panel's HTML needs from the adapter: the webview's resource origin, a fresh nonce, and asset URIs. */
export interface PanelHtmlParts {
  /** `webview.cspSource`: the only origin styles and images may come from. */
  readonly cspSource: string;
  /** A fresh random nonce per page load (base64, at least 128 bits); the only script allowed carries it. */
  readonly nonce: string;
  readonly scriptUri: string;
  readonly styleUri: string;
}

/** The Content-Security-Policy of the speed panel: nothing inline, nothing remote, one script by nonce. */
export function panelContentSecurityPolicy(parts: Pick<PanelHtmlParts, 'cspSource' | 'nonce'>): string {
  return [
    "default-src 'none'",
    `style-src ${parts.cspSource}`,
    `img-src ${parts.cspSource}`,
    `font-src ${parts.cspSource}`,
    `script-src 'nonce-${parts.nonce}'`,
  ].join('; ');
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The speed panel's page: a shell the script fills from snapshots. It has no inline script or style (the CSP forbids
 * both); the script says `ready` when it has loaded, and the host answers with the first snapshot.
 */
export function panelHtml(parts: PanelHtmlParts): string {
  const csp = escapeAttribute(panelContentSecurityPolicy(parts));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttribute(parts.styleUri)}">
<title>Model speed</title>
</head>
<body>
<main id="app" aria-busy="true"><p class="muted">Loading model speed…</p></main>
<script nonce="${escapeAttribute(parts.nonce)}" src="${escapeAttribute(parts.scriptUri)}"></script>
</body>
</html>
`;
}
