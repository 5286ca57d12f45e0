#!/usr/bin/env bash
# Regenerates the synthetic caller utterances used by the offline speech tests
# (test/fixtures/audio): appointment-booking phrases spoken by flite (voices slt, awb) and a
# few espeak-ng variants, as
#   16k/<id>.wav        16 kHz, 16-bit, mono PCM
#   mulaw8k/<id>.wav    8 kHz G.711 μ-law (what a phone call delivers), made from the 16 kHz file
#   references.json     file → { text (what was said, lowercase words), voice, engine, mulaw }
# Deterministic: flite and espeak-ng are, and sox runs in repeatable mode without dither.
# Needs flite, espeak-ng and sox (npm run setup installs them). Run: npm run fixtures
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=test/fixtures/audio

for bin in flite espeak-ng sox; do
  command -v "$bin" >/dev/null || { echo "error: $bin is not installed; run npm run setup" >&2; exit 1; }
done

# id | engine:voice | text to synthesize | reference transcript (spoken words) [| set]
# set: "phrase" (default) when the domain language (src/providers/local/booking-language.ts)
# has a phrase template for it; "variation" for phrasings it has no template for (new word
# orders, combinations, words outside the vocabulary) — a check on the 3-gram's tolerance.
UTTERANCES=$(cat <<'EOF'
greet-book|flite:slt|Hello, I'd like to book an appointment.|hello i'd like to book an appointment
greet-need|flite:awb|Hi, I need to make an appointment please.|hi i need to make an appointment please
name-john-smith|flite:slt|My name is John Smith.|my name is john smith
name-maria-garcia|flite:awb|My name is Maria Garcia.|my name is maria garcia
name-its-david|flite:slt|It's David Lee.|it's david lee
date-next-tuesday|flite:awb|Next Tuesday.|next tuesday
date-march-fifth|flite:slt|March fifth.|march fifth
date-tomorrow-morning|flite:awb|Tomorrow morning would be great.|tomorrow morning would be great
date-friday-twelfth|flite:slt|How about Friday the twelfth?|how about friday the twelfth
time-three-thirty|flite:awb|At 3:30 PM.|at three thirty p m
time-ten-am|flite:slt|Ten A M works for me.|ten a m works for me
time-noon|flite:awb|Can I come in at noon?|can i come in at noon
time-two-oclock|flite:slt|Actually, make it two o'clock.|actually make it two o'clock
yes|flite:slt|Yes.|yes
yes-correct|flite:awb|Yes, that's correct.|yes that's correct
no|flite:awb|No.|no
no-wednesday|flite:slt|No, make it Wednesday.|no make it wednesday
cancel|flite:slt|I want to cancel my appointment.|i want to cancel my appointment
reschedule-thursday|flite:awb|Can I reschedule my appointment to Thursday?|can i reschedule my appointment to thursday
human|flite:slt|I want to speak to a human.|i want to speak to a human
real-person|flite:awb|Can I talk to a real person please?|can i talk to a real person please
code-ab37k|flite:slt|My confirmation code is A B 3 7 K.|my confirmation code is a b three seven k
code-xy92|flite:awb|The code is X Y 9 2.|the code is x y nine two
phone-slt|flite:slt|My number is five five five, zero one nine eight.|my number is five five five zero one nine eight
phone-awb|flite:awb|Call me at four one five, two six seven one.|call me at four one five two six seven one
monday-afternoon|flite:slt|Is there anything available on Monday afternoon?|is there anything available on monday afternoon
repeat|flite:awb|Sorry, can you repeat that?|sorry can you repeat that
goodbye|flite:slt|Thank you, goodbye.|thank you goodbye
espeak-book-friday|espeak-ng:en-us|I'd like to book an appointment for next Friday.|i'd like to book an appointment for next friday
espeak-yes-please|espeak-ng:en-us+m3|Yes please.|yes please
espeak-name|espeak-ng:en-us+f3|My name is John Smith.|my name is john smith
espeak-cancel|espeak-ng:en|Cancel my appointment.|cancel my appointment
var-yes-name|flite:awb|Yes, my name is Sarah Wilson.|yes my name is sarah wilson|variation
var-friday-nine|flite:slt|Friday morning at nine thirty please.|friday morning at nine thirty please|variation
var-thursday-instead|flite:awb|Could we do Thursday instead?|could we do thursday instead|variation
EOF
)

rm -rf "$OUT/16k" "$OUT/mulaw8k"
mkdir -p "$OUT/16k" "$OUT/mulaw8k"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

json="{"
sep=""
while IFS='|' read -r id engvoice text ref set; do
  [ -n "$id" ] || continue
  engine="${engvoice%%:*}"
  voice="${engvoice#*:}"
  raw="$tmp/$id.raw.wav"
  case "$engine" in
    flite) flite -voice "$voice" -t "$text" -o "$raw" ;;
    espeak-ng) printf '%s' "$text" | espeak-ng --stdout -v "$voice" -s 160 > "$raw" ;;
    *) echo "unknown engine $engine" >&2; exit 1 ;;
  esac
  # 16 kHz 16-bit mono, peak-normalised to -3 dBFS; the synthesizer's own leading/trailing
  # silence is trimmed and replaced by exactly 0.2 s before and 0.5 s after, so end-of-speech
  # detection has something to detect.
  sox -R -D "$raw" -r 16000 -c 1 -b 16 -e signed-integer "$OUT/16k/$id.wav" \
    silence 1 0.01 -60d reverse silence 1 0.01 -60d reverse gain -n -3 pad 0.2 0.5
  # Phone copy: 8 kHz G.711 μ-law.
  sox -R -D "$OUT/16k/$id.wav" -r 8000 -c 1 -e u-law -b 8 "$OUT/mulaw8k/$id.wav"
  json+="$sep"$'\n'"  \"$id.wav\": { \"text\": \"$ref\", \"voice\": \"$voice\", \"engine\": \"$engine\", \"set\": \"${set:-phrase}\", \"mulaw\": \"mulaw8k/$id.wav\" }"
  sep=","
done <<< "$UTTERANCES"
json+=$'\n'"}"
printf '%s\n' "$json" > "$OUT/references.json"

count=$(ls "$OUT/16k" | wc -l)
echo "wrote $count utterances to $OUT ($(du -sh "$OUT" | cut -f1))"
