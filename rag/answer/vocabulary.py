"""Word tables that let different wordings of one fact meet: demonyms, irregular verbs."""

#: News text names a country and its people interchangeably ("Ukraine's team" and "the
#: Ukrainian delegation"); mapping demonyms to the country lets coverage see that.
DEMONYMS = {
    "ukrainian": "ukraine", "ukrainians": "ukraine", "russian": "russia", "russians": "russia",
    "turkish": "turkey", "turks": "turkey", "american": "us", "americans": "us", "u.s": "us",
    "united": "united", "british": "britain", "french": "france", "german": "germany",
    "germans": "germany", "chinese": "china", "european": "europe", "europeans": "europe",
    "polish": "poland", "italian": "italy", "indian": "india", "israeli": "israel",
    "iranian": "iran", "japanese": "japan", "qatari": "qatar", "saudi": "saudi",
    # Capitals stand for their countries in news prose ("the Kiev government", "Moscow's team").
    "moscow": "russia", "kyiv": "ukraine", "kiev": "ukraine", "washington": "us",
}
#: Irregular past forms the stemmer leaves alone ("met" would never match "meet").
IRREGULAR = {
    "met": "meet", "led": "lead", "held": "hold", "sent": "send", "told": "tell", "said": "say",
    "took": "take", "taken": "take", "went": "go", "gone": "go", "came": "come", "began": "begin",
    "begun": "begin", "spoke": "speak", "spoken": "speak", "made": "make", "gave": "give",
    "given": "give", "saw": "see", "seen": "see", "left": "leave", "brought": "bring",
    "thought": "think", "sought": "seek", "fought": "fight", "won": "win", "lost": "lose",
    "chose": "choose", "chosen": "choose", "flew": "fly", "flown": "fly", "rode": "ride",
    "kept": "keep", "meant": "mean", "stood": "stand", "struck": "strike", "wrote": "write",
    "written": "write", "knew": "know", "known": "know", "grew": "grow", "broke": "break",
    "broken": "break", "fell": "fall", "fallen": "fall", "paid": "pay", "ran": "run", "sat": "sit",
    "drew": "draw", "drawn": "draw", "heard": "hear", "felt": "feel", "found": "find", "got": "get",
    "rose": "rise", "risen": "rise", "shook": "shake", "became": "become", "threw": "throw",
}
#: Derived words the stemmer keeps apart from the word they come from, so "Who speaks for
#: the Kremlin?" meets "Kremlin spokesman" and "What ministry?" meets "culture minister".
DERIVED = {
    "spokesman": "speak", "spokeswoman": "speak", "spokesperson": "speak", "spokesmen": "speak",
    "spokespeople": "speak", "ministry": "minister", "ministries": "minister", "leader": "lead",
    "leaders": "lead", "leadership": "lead", "presidency": "president",
}
#: Each word's normal form for matching, from all the tables above.
NORMAL_FORMS = {**DERIVED, **DEMONYMS, **IRREGULAR}
