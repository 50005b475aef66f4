#!/usr/bin/env bash
# macOS: sign dist/HiveMind.app and wrap it in dist/hivemind-<version>-macos-<arch>.dmg.
#
#   python packaging/build.py && bash packaging/macos/build-dmg.sh
#
# Signing is ad hoc unless MACOS_SIGN_IDENTITY names a "Developer ID Application: ..."
# certificate in the keychain; then the hardened runtime and entitlements.plist are used.
# Notarization runs only with a Developer ID AND credentials, either
#   NOTARY_PROFILE      (a keychain profile made by `xcrun notarytool store-credentials`), or
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD (an app-specific password);
# otherwise it is skipped with a notice (Gatekeeper then asks users to confirm the first launch).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
app="$repo/dist/HiveMind.app"
[ -d "$app" ] || { echo "error: $app is missing: run python packaging/build.py first" >&2; exit 1; }
command -v hdiutil >/dev/null || { echo "error: hdiutil not found (this script runs on macOS)" >&2; exit 1; }

version="$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$repo/pyproject.toml")"
arch="$(uname -m)"
dmg="$repo/dist/hivemind-$version-macos-$arch.dmg"
identity="${MACOS_SIGN_IDENTITY:-}"

# Info.plist promises a tray-only app without App Nap: refuse to ship one that does not.
plist="$app/Contents/Info.plist"
for key in LSUIElement NSAppSleepDisabled; do
  [ "$(/usr/libexec/PlistBuddy -c "Print :$key" "$plist")" = "true" ] ||
    { echo "error: $key is not true in $plist" >&2; exit 1; }
done

if [ -n "$identity" ]; then
  echo "signing with $identity (hardened runtime)"
  codesign --force --deep --timestamp --options runtime \
    --entitlements "$here/entitlements.plist" --sign "$identity" "$app"
else
  echo "signing ad hoc (set MACOS_SIGN_IDENTITY to sign with a Developer ID)"
  codesign --force --deep --sign - "$app"
fi
codesign --verify --deep --strict --verbose=1 "$app"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"   # drag-to-install
rm -f "$dmg"
hdiutil create -quiet -volname "HiveMind $version" -srcfolder "$stage" -fs HFS+ \
  -format UDZO -ov "$dmg"
[ -z "$identity" ] || codesign --force --timestamp --sign "$identity" "$dmg"

if [ -n "$identity" ] && { [ -n "${NOTARY_PROFILE:-}" ] ||
     { [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ]; }; }; then
  echo "notarizing $dmg (takes minutes)"
  if [ -n "${NOTARY_PROFILE:-}" ]; then
    xcrun notarytool submit "$dmg" --keychain-profile "$NOTARY_PROFILE" --wait
  else
    xcrun notarytool submit "$dmg" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
      --password "$APPLE_APP_PASSWORD" --wait
  fi
  xcrun stapler staple "$dmg"
  xcrun stapler validate "$dmg"
else
  echo "notarization skipped: needs MACOS_SIGN_IDENTITY and NOTARY_PROFILE or APPLE_ID/APPLE_TEAM_ID/APPLE_APP_PASSWORD"
fi
echo "dmg: $dmg"
