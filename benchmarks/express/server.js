// The "Complete Node.js (Express)" example of the AI Flow reference
// (shared/reference/ai-flow-api.md), kept as the reference has it so that the
// benchmark compares against the path the official documentation suggests.
// Two changes: it listens on 127.0.0.1 only, and the reference's second
// `user_speak` branch (barge-in), which the first one makes unreachable, is
// left out.
// Run: AI_FLOW_SHARED_SECRET=... PORT=3000 node server.js
const express = require('express');
const app = express();
app.use(express.json());

// Configuration
const SHARED_SECRET = process.env.AI_FLOW_SHARED_SECRET;

// Session state (use database in production)
const sessions = new Map();

// Authentication middleware
const authenticate = (req, res, next) => {
  const providedSecret = req.headers['x-api-token'];
  if (providedSecret !== SHARED_SECRET) {
    return res.status(401).json({ error: 'Unauthorized' });
  }
  next();
};

app.post('/webhook', authenticate, (req, res) => {
  try {
    const event = req.body;
    if (!event || !event.type) {
      return res.status(400).json({ error: 'Invalid event' });
    }
    const sessionId = event.session.id;
    const eventType = event.type;

    // Session Start
    if (eventType === 'session_start') {
      sessions.set(sessionId, {
        startedAt: Date.now(),
        phoneNumber: event.session.phone_number,
        timeoutCount: 0
      });
      return res.json({
        type: 'speak',
        session_id: sessionId,
        text: 'Welcome to AI Flow! How can I help you today?',
        user_input_timeout_seconds: 8,
        barge_in: {
          strategy: 'minimum_characters',
          minimum_characters: 3
        }
      });
    }

    // User Speak
    if (eventType === 'user_speak') {
      const userText = event.text.toLowerCase();
      // Handle goodbye
      if (userText.includes('goodbye') || userText.includes('bye')) {
        return res.json({
          type: 'speak',
          session_id: sessionId,
          text: 'Goodbye! Have a great day!'
        });
      }
      // Handle transfer request
      if (userText.includes('transfer') || userText.includes('agent')) {
        return res.json({
          type: 'transfer',
          session_id: sessionId,
          target_phone_number: '+1234567890',
          caller_id_name: 'Support Team',
          caller_id_number: '+1234567890'
        });
      }
      // Echo response
      return res.json({
        type: 'speak',
        session_id: sessionId,
        text: `You said: ${event.text}. How else can I help?`,
        tts: {
          provider: 'azure',
          language: 'en-US',
          voice: 'en-US-JennyNeural'
        }
      });
    }

    // Assistant Speak
    if (eventType === 'assistant_speak') {
      console.log(`Assistant spoke for ${event.duration_ms}ms`);
      return res.status(204).send();
    }

    // Session End
    if (eventType === 'session_end') {
      const session = sessions.get(sessionId);
      if (session) {
        const duration = (Date.now() - session.startedAt) / 1000;
        console.log(`Session ${sessionId} ended after ${duration.toFixed(2)} seconds`);
        sessions.delete(sessionId);
      }
      return res.status(204).send();
    }

    // Handle user input timeout
    if (eventType === 'user_input_timeout') {
      const session = sessions.get(sessionId);
      if (session) {
        session.timeoutCount = (session.timeoutCount || 0) + 1;
        // Hangup after 3 timeouts
        if (session.timeoutCount >= 3) {
          return res.json({
            type: 'hangup',
            session_id: sessionId
          });
        }
        // Retry with prompt
        return res.json({
          type: 'speak',
          session_id: sessionId,
          text: `I didn't hear anything. Please respond. Attempt ${session.timeoutCount} of 3.`,
          user_input_timeout_seconds: 5
        });
      }
    }

    res.status(204).send();
  } catch (error) {
    console.error('Error processing webhook:', error);
    res.status(500).json({ error: 'Internal server error' });
  }
});

app.get('/health', (req, res) => {
  res.json({ status: 'ok' });
});

const PORT = process.env.PORT || 3000;
app.listen(PORT, '127.0.0.1', () => {
  console.log(`AI Flow webhook server running on port ${PORT}`);
});
