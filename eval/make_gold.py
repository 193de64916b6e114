"""Writes gold.jsonl. Kept as a script so the gold set is reviewable as one table."""
import json

A, B, C, D, E = ("000_4ac1dad1d337df25.txt", "001_a39661892d0812d2.txt", "002_b62eaf8dc1d09b0d.txt",
                 "003_f4afef2fd7492f2d.txt", "004_ffb46453cc274d5e.txt")
rows = [
 ("Which official was in charge of Moscow's negotiating team in Istanbul?", ["Vladimir Medinsky"], [["Medinsky"]], [A, B, C, D, E]),
 ("Who is leading the Ukrainian side at the talks?", ["Rustem Umerov"], [["Umerov"]], [A, C, D, E]),
 ("What cabinet post does Rustem Umerov hold?", ["defense minister", "defence minister"], [["defense minister", "defence minister"]], [A, C, D, E]),
 ("Which Turkish minister did the Russians see on Thursday evening?", ["Hakan Fidan"], [["Fidan"]], [A]),
 ("How long did Friday's meeting between the delegations go on?", ["less than two hours"], [["two hours"]], [D]),
 ("At what time did the negotiators sit down on Friday?", ["after 1:00 PM"], [["1:00"]], [D]),
 ("According to the UN, how many Ukrainian civilians have died in the war?", ["more than 12,000"], [["12,000"]], [E]),
 ("How long is the front line?", ["roughly 1,000 kilometres", "620 miles"], [["1,000", "620"]], [E]),
 ("How many civilians were killed in eastern Ukraine in the past day?", ["at least five"], [["five"]], [E]),
 ("How many people were injured in the eastern regions in the past day?", ["29"], [["29"]], [E]),
 ("What prop did Zelensky compare Russia's delegation to?", ["a theatre prop", "a theater prop"], [["theatre prop", "theater prop"]], [C, E]),
 ("Who heads Russia's military intelligence and joined the delegation?", ["Igor Kostyukov"], [["Kostyukov"]], [B, C]),
 ("Name the deputy foreign minister on the Russian team.", ["Mikhail Galuzin"], [["Galuzin"]], [B, C]),
 ("Which deputy defence minister travelled with Medinsky?", ["Alexander Fomin"], [["Fomin"]], [B, C]),
 ("How many days of ceasefire did Ukraine and European countries call for?", ["30 days", "30-day"], [["30-day", "30 days"]], [B, C, D, E]),
 ("When did the two countries last negotiate face to face before this week?", ["March 2022", "spring 2022", "2022"], [["2022"]], [A, B, C, D]),
 ("In which city did Zelensky hold talks with Erdogan?", ["Ankara"], [["Ankara"]], [C, E]),
 ("What word did Lavrov use for Zelensky's stance?", ["pathetic"], [["pathetic"]], [A]),
 ("What kind of presence in Ukraine did Lavrov rule out?", ["foreign military presence"], [["military presence"]], [A]),
 ("Which US officials did the White House say would come to Istanbul?", ["Marco Rubio, Steven Witkoff and Keith Kellogg"], [["Rubio"], ["Witkoff"], ["Kellogg"]], [A]),
 ("Who speaks for the Kremlin?", ["Dmitry Peskov"], [["Peskov"]], [A, D, E]),
 ("Did Putin intend to go to Istanbul in the coming days?", ["no", "not planning a trip", "no plans to travel"], [["not planning", "no plans"]], [A, E]),
 ("Which region was Trump visiting during the week of the talks?", ["the Middle East"], [["Middle East"]], [C, D, E]),
 ("In which country did Trump address business leaders about the talks?", ["Qatar"], [["Qatar"]], [C, E]),
 ("What did Trump say has to happen before there is progress?", ["he and Putin get together", "until Putin and I meet"], [["Putin and I", "(Putin) and I"]], [C, D, E]),
 ("Which NATO leader said Putin erred by sending a low-level team?", ["Mark Rutte"], [["Rutte"]], [D]),
 ("How did Kaja Kallas describe Putin's behaviour?", ["playing games"], [["playing games"]], [D]),
 ("What will the EU's next round of sanctions go after?", ["the shadow fleet and the Nord Stream consortium"], [["shadow fleet"], ["Nord Stream"]], [D]),
 ("Who runs EU foreign policy?", ["Kaja Kallas"], [["Kallas"]], [D]),
 ("What conditions for peace did Umerov set out on Facebook?", ["a 30-day ceasefire, return of children, exchange of prisoners"], [["30 days"], ["children"]], [D]),
 ("Where did Putin and Zelensky have their only meeting?", ["Paris", "the Normandy Four summit in Paris"], [["Paris"]], [C]),
 ("Which European leaders attended the 2019 summit with Putin and Zelensky?", ["Emmanuel Macron and Angela Merkel"], [["Macron"], ["Merkel"]], [C]),
 ("Where were reporters gathering because the talks were rumoured to be held there?", ["Dolmabahçe Palace"], [["Dolmabahçe", "Dolmabahce"]], [C]),
 ("In which Turkish city did NATO foreign ministers meet?", ["Antalya"], [["Antalya"]], [C, E]),
 ("Which US senator met the Ukrainian foreign minister together with Rubio?", ["Lindsey Graham"], [["Graham"]], [C, E]),
 ("What ministry did Medinsky once run?", ["culture"], [["culture minister"]], [C, D]),
 ("Under what condition would Putin agree to meet Zelensky, according to Russian officials?", ["public capitulation"], [["capitulation"]], [C]),
 ("What share of Ukraine does Russia now control?", ["about a fifth"], [["fifth"]], [D]),
 ("In what year did Russia annex Crimea?", ["2014"], [["2014"]], [D]),
 ("Which town's atrocities came to light as the 2022 talks collapsed?", ["Bucha"], [["Bucha"]], [D]),
 ("Who heads Ukraine's presidential office?", ["Andriy Yermak"], [["Yermak"]], [E]),
 ("Which adviser said Zelensky would negotiate only with Putin himself?", ["Mykhailo Podolyak"], [["Podolyak"]], [E]),
 ("Which security chiefs sat in on Putin's Wednesday meeting with the negotiators?", ["Belousov, Gerasimov, Shoigu"], [["Belousov"], ["Shoigu"]], [C, E]),
 ("What did Keir Starmer accuse Putin of?", ["standing in the way of peace"], [["standing in the way of peace"]], [E]),
 ("Which French minister talked about an empty chair?", ["Jean-Noel Barrot"], [["Barrot"]], [E]),
 ("Which senior Russian diplomats stayed away from the talks?", ["Sergey Lavrov and Yuri Ushakov"], [["Lavrov"], ["Ushakov"]], [E]),
 ("How many lower-ranking officials did Putin name as experts?", ["four"], [["four"]], [E]),
 ("Which laws does Lavrov want Ukraine's Western partners to get repealed?", ["national minority laws"], [["minority laws"]], [B]),
 ("Which news agency carried Medinsky's remarks about his team's competencies?", ["Xinhua"], [["Xinhua"]], [B]),
 ("On which day of the week did Putin propose resuming direct talks?", ["Sunday"], [["Sunday"]], [B, C, E]),
 ("How did Zelensky rate the level of his own delegation?", ["highest level"], [["highest level"]], [B]),
 ("How did Rubio describe Washington's mood about the stalled peace efforts?", ["impatient"], [["impatient"]], [C]),
 ("What did von der Leyen say Putin failed to do?", ["never showed up"], [["never showed up"]], [D]),
 ("Which city hosted the European Political Community summit?", ["Tirana"], [["Tirana"]], [D, E]),
 ("What did State Department spokeswoman Tammy Bruce say the US position was?", ["the killings must stop"], [["killings must stop"]], [D]),
 ("Since what year has Ukraine been independent?", ["1991"], [["1991"]], [D]),
 ("What did Russia's Foreign Ministry say its officials were prepared for?", ["serious work"], [["serious work"]], [C]),
 ("What did Medinsky tell state TV Russia was open to?", ["possible compromises"], [["compromises"]], [C]),
 ("What does Medinsky say the negotiations are meant to achieve?", ["lasting peace by removing the root causes"], [["peace"], ["root causes", "underlying causes"]], [A, B, E]),
 ("What term did the Kremlin use for the talks in relation to the 2022 negotiations?", ["resumption", "restart", "continuation"], [["resumption", "restart", "continuation"]], [A, B, C, D, E]),
]
followups = [
 (["Which official was in charge of Moscow's negotiating team?", "Vladimir Medinsky."], "And who led Ukraine's team?", ["Rustem Umerov"], [["Umerov"]], [A, C, D, E]),
 (["How did Kaja Kallas describe Putin's behaviour?", "She said he was playing games."], "What is her job?", ["EU foreign policy chief"], [["foreign policy chief"]], [D]),
 (["Who is the Kremlin spokesman?", "Dmitry Peskov."], "What did he say about a meeting between Trump and Putin?", ["absolutely necessary"], [["absolutely necessary", "no plans to meet"]], [D, E]),
]
unanswerable = [
 "How many prisoners of war were exchanged as a result of the Istanbul talks?",
 "When is the second round of the Istanbul negotiations scheduled?",
 "How many drones did Russia launch at Ukraine on the night before the talks?",
 "How old is Vladimir Medinsky?",
 "What did the Pope say about the negotiations in Istanbul?",
 "Who represented China at the Istanbul talks?",
 "What was decided when Putin and Trump finally met in person?",
 "Which hotel did the Ukrainian delegation stay in?",
 "How much Russian money will the EU's new sanctions package freeze?",
 "What was the rouble's exchange rate against the dollar during the talks?",
 "Which Turkish city will host the next round of talks?",
 "How many journalists were officially accredited to cover the talks?",
 "Did India send an envoy to Istanbul for the negotiations?",
 "How did Ukraine's parliament vote after the talks ended?",
 "What is the name of the interpreter who worked for the Russian delegation?",
 "How many tanks did Ukraine receive from Germany this month?",
]
with open("gold.jsonl", "w", encoding="utf-8") as out:
    n = 0
    for q, answers, must, sources in rows:
        n += 1
        out.write(json.dumps({"id": f"q{n:03d}", "question": q, "answers": answers, "must_include": must,
                              "sources": sources, "answerable": True}, ensure_ascii=False) + "\n")
    for history, q, answers, must, sources in followups:
        n += 1
        out.write(json.dumps({"id": f"q{n:03d}", "question": q, "answers": answers, "must_include": must,
                              "sources": sources, "answerable": True, "history": [history]}, ensure_ascii=False) + "\n")
    for q in unanswerable:
        n += 1
        out.write(json.dumps({"id": f"q{n:03d}", "question": q, "answers": [], "must_include": [],
                              "sources": [], "answerable": False}, ensure_ascii=False) + "\n")
print(n, "questions")
