#!/bin/sh
echo "starting on $(hostname) name=$PT_name" >&2
for i in 1 2 3; do echo "line $i"; sleep 1; done
greeting="hello $PT_name"
[ "$PT_loud" = "true" ] && greeting=$(echo "$greeting" | tr '[:lower:]' '[:upper:]')
echo "{\"greeting\": \"$greeting\", \"n\": 3}"
