"""Texts of the rescue page (空地救援): its line on the latest mission."""

TEXTS = {
    "rescue.last": {"zh": "所选时间段内没有空地救援任务。最近一次任务：{time}（{district}，#{mission}）。",
                    "en": "No rescue mission in the chosen window. The last one: {time} ({district}, #{mission})."},
    "rescue.latest": {"zh": "最近一次任务：{time}（{district}，#{mission}）。",
                      "en": "The latest mission: {time} ({district}, #{mission})."},
    "rescue.last.link": {"zh": "查看包含它的时间段 {start} 至 {end} →", "en": "Show the window {start} to {end} →"},
    "rescue.last.never": {"zh": "所选时间段内没有空地救援任务，此前也没有任何任务记录。",
                          "en": "No rescue mission in the chosen window, and none before it."},
}
