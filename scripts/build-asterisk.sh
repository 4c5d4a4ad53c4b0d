#!/bin/bash
# Ensure an Asterisk 22 build exists in the cache and link it at $LINK.
#
# Asterisk is not packaged for Debian 12: we build Debian's *sid* source package offline.
# The install is cached outside the work tree, keyed by version, so only the first run on a
# machine pays for the build (about 4 minutes on 2 cores). The downloaded source package is kept
# in the cache too, because sid only serves its newest version.
#
#   CACHE  cache root             (default /var/cache/hotline)
#   PIN    expected version       (default 22.10.1)
#   LINK   symlink to the prefix  (default ./var/asterisk)
set -euo pipefail
CACHE=${CACHE:-/var/cache/hotline}
PIN=${PIN:-22.10.1}
LINK=${LINK:-$PWD/var/asterisk}
WORK=$CACHE/asterisk-build
mkdir -p "$CACHE" "$(dirname "$LINK")"
say() { printf '\033[1m[asterisk]\033[0m %s\n' "$*"; }

link_prefix() {
  ln -sfn "$1" "$LINK"
  say "using $("$1/sbin/asterisk" -V) at $1"
  exit 0
}

# 1. cached install: the pinned version first, else the newest complete one
[ -f "$CACHE/asterisk-$PIN/.complete" ] && link_prefix "$CACHE/asterisk-$PIN"
newest=$(ls -d "$CACHE"/asterisk-22.*/.complete 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$newest" ] && link_prefix "$(dirname "$newest")"

say "no cached build in $CACHE: building Asterisk from Debian's sid source package (first time only, ~4 min)"
START=$SECONDS
phase() { say "$1 (${2:-}$((SECONDS - START)) s so far)"; }

# 2. the source package: the cached one if we have it, else from sid through a private apt dir
SRCCACHE=$CACHE/asterisk-src; mkdir -p "$SRCCACHE"
dsc=$(ls "$SRCCACHE"/asterisk_*.dsc 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$dsc" ]; then
  SIDAPT=$WORK/sidapt; mkdir -p "$SIDAPT/lists/partial" "$SIDAPT/cache/archives/partial"
  URI=$( { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/{print $2}'
           cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
             awk '$1=="deb"{for(i=2;i<=NF;i++) if($i!~/^\[/){print $i; break}}'; } |
         grep -v -- -security | head -n 1 || true)
  [ -n "$URI" ] || { echo "no Debian archive URI found in the apt configuration" >&2; exit 1; }
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $URI sid main" > "$SIDAPT/sources.list"
  SID=(-o Dir::Etc::sourcelist="$SIDAPT/sources.list" -o Dir::Etc::sourceparts=-
       -o Dir::State::Lists="$SIDAPT/lists" -o Dir::Cache="$SIDAPT/cache")
  apt-get "${SID[@]}" -qq update
  served=$(apt-cache "${SID[@]}" showsrc asterisk | awk '/^Version:/ && !n++ {print $2}')
  say "sid serves asterisk $served (expected $PIN)"
  (cd "$SRCCACHE" && apt-get "${SID[@]}" -qq source --download-only asterisk)
  dsc=$(ls "$SRCCACHE"/asterisk_*.dsc | sort -V | tail -n 1)
fi
phase "source package $(basename "$dsc")"

# 3. unpack without Debian's patches; only the pjproject DFSG fix is needed
rm -rf "$WORK/src"; mkdir -p "$WORK/src"; cd "$WORK/src"
dpkg-source --no-check --skip-patches -x "$dsc" > /dev/null
cd asterisk-*/; SRC=$PWD
VERSION=$(cat .version)
PREFIX=$CACHE/asterisk-$VERSION
[ "$VERSION" = "$PIN" ] || say "WARNING: building $VERSION, not the expected $PIN (sid has moved on)"
patch -s -p1 --forward < debian/patches/2014_pjproject_unbreak.patch
. third-party/versions.mak
PJX=$(awk '/^export PJ_VERSION_(MAJOR|MINOR|REV) /&&NF==4{v=v (v==""?"":".") $4} END{print v}' Xpjproject/version.mak)
[ "$PJX" = "$PJPROJECT_VERSION" ] || { echo "bundled pjproject is $PJX, Asterisk $VERSION wants $PJPROJECT_VERSION: this source package no longer builds with this recipe" >&2; exit 1; }
mkdir -p externals-cache
tar --create --transform "s,^Xpjproject,pjproject-$PJPROJECT_VERSION," Xpjproject |
  bzip2 --fast > "externals-cache/pjproject-$PJPROJECT_VERSION.tar.bz2"
(cd externals-cache && md5sum "pjproject-$PJPROJECT_VERSION.tar.bz2") \
  > "third-party/pjproject/pjproject-$PJPROJECT_VERSION.tar.bz2.md5"
chmod 755 debian/dummyprogs/fetch
phase "unpacked $VERSION"

# 4. configure in a clean environment; wget/curl hidden so nothing can be downloaded
CLEAN=(env -i HOME=/root LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin:$SRC/debian/dummyprogs)
fail() { echo "Asterisk $VERSION failed to $1; last lines of $2:" >&2; tail -n 40 "$2" >&2
         echo "this source package no longer builds with this recipe (see scripts/build-asterisk.sh)" >&2; exit 1; }
"${CLEAN[@]}" ac_cv_path_WGET=: ac_cv_path_CURL=: ./configure --prefix="$PREFIX" \
  --with-pjproject-bundled --with-externals-cache="$SRC/externals-cache" > configure.out 2>&1 \
  || fail configure "$SRC/config.log"
grep -q '^PJPROJECT_BUNDLED=yes' makeopts || fail "use the bundled pjproject" configure.out
phase configured

# 5. menuselect: every category off but MENUSELECT_CFLAGS (keeps OPTIONAL_API), then what we use
"${CLEAN[@]}" make menuselect.makeopts > menuselect.out 2>&1 || fail menuselect menuselect.out
MS=menuselect/menuselect
ALL=$(grep -o '<member name="[^"]*"' menuselect-tree | cut -d'"' -f2)
WANT=$(for p in chan_pjsip 'res_pjsip.*' res_pjproject res_rtp_asterisk res_agi app_queue \
  app_mixmonitor app_dial app_playback app_read app_record app_voicemail app_chanspy app_confbridge \
  app_originate app_audiosocket res_audiosocket chan_audiosocket res_musiconhold \
  res_http_websocket cdr_csv cdr_custom cdr_manager cel_custom cel_manager res_cdrel_custom \
  codec_ulaw codec_alaw codec_gsm format_wav format_pcm format_gsm format_sln pbx_config app_exec \
  app_verbose app_system 'func_.*' 'res_sorcery.*' res_timing_timerfd bridge_simple bridge_softmix \
  bridge_native_rtp bridge_holding bridge_builtin_features bridge_builtin_interval_features \
  chan_bridge_media chan_rtp app_senddtmf app_sayunixtime 'res_format_attr_.*' app_stack \
  app_waituntil app_waitforsilence app_speech_utils res_speech app_echo app_userevent app_transfer \
  app_bridgewait res_crypto
  do printf '%s\n' $ALL | grep -xE "$p" || true; done | sort -u |
  grep -vxE 'res_pjsip_stir_shaken|res_pjsip_config_sangoma')
ARGS=(); for c in $($MS --category-list menuselect.makeopts); do
  [ "$c" = MENUSELECT_CFLAGS ] || ARGS+=(--disable-category "$c"); done
for m in $WANT; do ARGS+=(--enable "$m"); done
$MS "${ARGS[@]}" --disable BUILD_NATIVE menuselect.makeopts >> menuselect.out 2>&1
$MS --check-deps menuselect.makeopts >> menuselect.out 2>&1 || fail "resolve module dependencies" menuselect.out
phase "modules selected"

# 6. build + install into a staging prefix, then mark complete (a half-built cache is never used)
BF=(DEBUG= "OPTIMIZE=-O2 -fno-partial-inlining")
( "${CLEAN[@]}" make -j"$(nproc)" "${BF[@]}" > make.out 2>&1 ) &
MAKEPID=$!
while kill -0 $MAKEPID 2>/dev/null; do
  sleep 20; kill -0 $MAKEPID 2>/dev/null && say "compiling… $(grep -c '\[CC\]' make.out || true) files ($((SECONDS - START)) s)"
done
wait $MAKEPID || fail compile make.out
phase compiled
rm -rf "$PREFIX"
"${CLEAN[@]}" make install LDCONFIG=: "${BF[@]}" > install.out 2>&1 || fail install install.out
ln -sfn /usr/share/asterisk/sounds/en "$PREFIX/var/lib/asterisk/sounds/en"
rm -rf "$PREFIX/var/lib/asterisk/moh"; ln -sfn /usr/share/asterisk/moh "$PREFIX/var/lib/asterisk/moh"
"$PREFIX/sbin/asterisk" -V > /dev/null || fail "run after install" install.out
touch "$PREFIX/.complete"
rm -rf "$WORK/src"
phase "installed to $PREFIX"
link_prefix "$PREFIX"
