#!/bin/sh
count=${PT_count:-10}
interval=${PT_interval:-1}
i=1
while [ "$i" -le "$count" ]; do
  echo "step $i of $count"
  [ "$i" -lt "$count" ] && sleep "$interval"
  i=$((i + 1))
done
echo "done after $count steps" >&2
