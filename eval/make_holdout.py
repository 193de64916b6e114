"""Writes holdout.jsonl: questions written after the scorer was calibrated on gold.jsonl.

Kept apart so the README can report figures on questions the weights and threshold never saw.
"""
import json

S = {"000": "000_4ac1dad1d337df25.txt", "001": "001_a39661892d0812d2.txt", "002": "002_b62eaf8dc1d09b0d.txt",
     "003": "003_f4afef2fd7492f2d.txt", "004": "004_ffb46453cc274d5e.txt"}
A = [
 ("Who is president of the European Commission?", ["Ursula von der Leyen"], [["von der Leyen"]], ["003"]),
 ("Which head of Russia's General Staff was at Putin's Wednesday meeting with the negotiators?", ["Valery Gerasimov"], [["Gerasimov"]], ["002", "004"]),
 ("Which FSB director was seen in the Kremlin video?", ["Alexander Bortnikov"], [["Bortnikov"]], ["002"]),
 ("How many years of fighting in eastern Ukraine had there been by the Paris summit?", ["five years"], [["five"]], ["002"]),
 ("In which month did the 2022 peace negotiations collapse, according to Medinsky?", ["April 2022"], [["April"]], ["002"]),
 ("Which newspaper quoted Zelensky comparing the Russian team to a theater prop?", ["The Guardian"], [["Guardian"]], ["002"]),
 ("Which TV channel did Rubio speak to on May 15?", ["Fox News"], [["Fox News"]], ["003"]),
 ("Who is the spokeswoman of the State Department?", ["Tammy Bruce"], [["Tammy Bruce"]], ["003"]),
 ("Which gas pipeline consortium would the new EU measures target?", ["Nord Stream"], [["Nord Stream"]], ["003"]),
 ("Where did Trump say he was going back to on May 16?", ["Washington"], [["Washington", "returns to the US"]], ["003", "000"]),
 ("Where did Erdogan greet Zelensky with an honour guard?", ["the presidential palace in Ankara"], [["presidential palace"]], ["004"]),
 ("To which country was Zelensky heading on Friday for a gathering of European officials?", ["Albania"], [["Albania"]], ["004"]),
 ("Where was Trump flying to from Doha on Air Force One?", ["Abu Dhabi"], [["Abu Dhabi"]], ["004"]),
 ("Which news agency reported that the talks lasted less than two hours?", ["Reuters"], [["Reuters"]], ["003"]),
 ("Which word did Zelensky use to call the Russian delegation merely ornamental?", ["decorative"], [["decorative"]], ["003"]),
 ("What outcome was Russia pursuing in the 2022 negotiations, according to analysts?", ["Kiev's capitulation"], [["capitulation", "neutral"]], ["003"]),
 ("What did Lavrov say nobody can guarantee?", ["that everything will go smoothly"], [["smoothly"]], ["001"]),
 ("What kind of delegation did Zelensky say Moscow appears to have sent?", ["a sham delegation"], [["sham"]], ["001"]),
 ("What kind of regime have Russian officials claimed runs Ukraine?", ["a neo-Nazi regime"], [["neo-Nazi"]], ["002"]),
 ("What type of government did Putin propose for Ukraine in March?", ["a UN-backed transitional government"], [["transitional"]], ["002"]),
 ("In which country did Lavrov and Ushakov represent Russia in talks with the US?", ["Saudi Arabia"], [["Saudi Arabia"]], ["004"]),
 ("Which news outlet did Russian officials tell that Putin would not accept Zelensky's offer?", ["The Moscow Times"], [["Moscow Times"]], ["002"]),
 ("Who said the ball is now in Putin's court?", ["Mark Rutte"], [["Rutte"]], ["003"]),
 ("What has the Trump administration suggested it might do if there is no tangible progress?", ["walk away from the peace effort"], [["walk away"]], ["004"]),
 ("On which day did European leaders visit Zelensky in Kyiv?", ["Saturday"], [["Saturday"]], ["004"]),
 ("How long had Trump's diplomatic push been going on before Putin's proposal?", ["more than three months"], [["three months"]], ["004"]),
 ("On which day did the Ukrainian delegation skip the meeting?", ["Thursday"], [["Thursday"]], ["000"]),
 ("How did the White House characterise the prospect of a Putin-Trump meeting?", ["imminent"], [["imminent"]], ["000"]),
 ("In what year did Putin and Zelensky last meet face to face?", ["2019"], [["2019"]], ["002", "003"]),
]
F = [
 ("What did she say the EU was preparing?", [["Who is president of the European Commission?", "Ursula von der Leyen."]],
  ["a new sanctions package"], [["sanctions package"]], ["003"]),
]
U = [
 "How many people were in the Ukrainian delegation in total?",
 "What was the temperature in Istanbul on the day of the talks?",
 "Which Ukrainian city was hit by a missile strike during the talks?",
 "What did Erdogan say after the talks ended?",
 "How much new military aid did the US pledge to Ukraine that week?",
 "What is Rustem Umerov's date of birth?",
 "How many hours did Medinsky's flight to Istanbul take?",
 "What did China's foreign ministry say about the Istanbul talks?",
 "On what date will Zelensky and Putin meet in person?",
 "How did oil prices react to the talks?",
 "What is the population of Istanbul?",
 "What did Zelensky's wife say about the negotiations?",
 "How many square kilometres did Ukraine recapture in May?",
]
rows = []
for i, (q, ans, mi, src) in enumerate(A, 1):
    rows.append({"id": f"h{i:03d}", "question": q, "answers": ans, "must_include": mi,
                 "sources": [S[s] for s in src], "answerable": True})
for q, hist, ans, mi, src in F:
    rows.append({"id": f"h{len(rows)+1:03d}", "question": q, "history": hist, "answers": ans, "must_include": mi,
                 "sources": [S[s] for s in src], "answerable": True})
for q in U:
    rows.append({"id": f"h{len(rows)+1:03d}", "question": q, "answers": [], "must_include": [], "sources": [],
                 "answerable": False})
with open("eval/holdout.jsonl", "w", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
print(len(rows))
